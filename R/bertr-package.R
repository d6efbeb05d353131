#' bertr: fine-tune and use BERT text classifiers from R
#'
#' [bert_train()] fine-tunes a pretrained BERT on a text column and a binary label; `predict()` scores new
#' texts; [bert_tokenize()] gives WordPiece ids as integer matrices. The work is done by the Python
#' package shipped in `inst/python/bertr` (keras-bert on TensorFlow's Keras 2 API) through reticulate;
#' [install_bertr()] sets up its Python environment.
#'
#' @keywords internal
#' @importFrom zeallot %<-%
"_PACKAGE"
