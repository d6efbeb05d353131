#' Embed texts as vectors
#'
#' One numeric vector per text: the text summary a BERT classifier head reads. From a pretrained model
#' (no fine-tuning), these are general-purpose sentence embeddings, e.g. for similarity search, clustering or
#' another model's features; from a model fitted by [bert_train()], they are its fine-tuned summaries. Texts
#' are run in length-sorted batches and come back in input order.
#'
#' @param x A character vector of texts; or a `bert_classifier` from [bert_train()], whose fine-tuned
#'   encoder and pooling are used on `newdata`.
#' @param newdata With a fitted `x`: a data.frame with the text column(s) used in training, or a character
#'   vector of texts.
#' @param pretrained With texts: `NULL` for the embedded all-MiniLM-L6-v2, or a BERT model directory.
#' @param pooling With texts: `"mean"` (mean of the token states) or `"cls"` (the `[CLS]` state through the
#'   pretrained pooler); `NULL` follows the model (`"mean"` for the embedded one).
#' @param seq_len With texts: tokens per text; longer texts are truncated.
#' @param text_pair With texts: optional second texts, one per text.
#' @param normalize Scale every vector to unit length (then a dot product is the cosine similarity; with the
#'   embedded model and mean pooling these are all-MiniLM-L6-v2's sentence embeddings).
#' @param batch_size Texts per batch (`NULL`: 32 for texts, twice the training batch size for a fitted model).
#' @param verbose Show a progress bar when tokenizing or embedding takes more than a few seconds.
#' @param long_text,stride,window_pooling With a fitted `x`: how texts longer than its `seq_len` are read (see
#'   [predict.bert_classifier()]); with windows, a text's vector pools its windows' vectors. `NULL`: the model's
#'   own settings.
#' @param precision With a fitted `x`: `"model"` or `"int8"`, as in [predict.bert_classifier()]. The int8
#'   vectors have a cosine similarity of about 0.98 or more to the float32 ones.
#' @param ... Unused.
#' @return A numeric matrix with one row per text (named by the texts' names, if any) and one column per
#'   hidden unit (384 for the embedded model).
#' @examples
#' \dontrun{
#' e <- bert_embed(c("I love this tea", "Great coffee", "Not for me"), normalize = TRUE)
#' e %*% t(e)                                  # cosine similarities
#' fit <- bert_train(training_data, "review", "score")
#' bert_embed(fit, testing_data)               # the fine-tuned summaries
#' }
#' @export
bert_embed <- function(x, ...) UseMethod("bert_embed")

#' @rdname bert_embed
#' @export
bert_embed.default <- function(x, pretrained = NULL, pooling = NULL, seq_len = 128L, text_pair = NULL,
                               normalize = FALSE, batch_size = NULL, verbose = interactive(), ...) {
  texts <- as_texts(x, "`x`")
  args <- c(list(as.list(texts), pairs = pair_texts(text_pair, length(texts), "`x`"),
                 report = if (isTRUE(verbose)) progress_reporter()),
            core_args(normalize = normalize, pretrained = pretrained, pooling = pooling, seq_len = seq_len,
                      batch_size = batch_size))
  embedding_matrix(call_core(do.call(bertr_core()$embed, args)), names(x))
}

#' @rdname bert_embed
#' @export
bert_embed.bert_classifier <- function(x, newdata, normalize = FALSE, batch_size = NULL, verbose = interactive(),
                                       long_text = NULL, stride = NULL, window_pooling = NULL, precision = "model",
                                       ...) {
  input <- newdata_input(x, newdata)
  py <- live_py(x)
  args <- c(list(input$texts, pairs = input$pairs, report = if (isTRUE(verbose)) progress_reporter()),
            core_args(normalize = normalize, batch_size = batch_size, long_text = long_text, stride = stride,
                      window_pooling = window_pooling, precision = precision))
  embedding_matrix(call_core(do.call(py$embed, args)), if (is.character(newdata)) names(newdata) else NULL)
}

embedding_matrix <- function(vectors, row_names) {  # reticulate already gives a double matrix
  if (!is.null(row_names)) rownames(vectors) <- row_names
  vectors
}
