#' Export a fitted model as a standalone TensorFlow SavedModel that reads raw text
#'
#' `bert_export()` writes `object` as a TensorFlow SavedModel whose serving signature takes a batch of raw
#' UTF-8 texts (and paired texts, for a model trained on pairs) and returns the same predictions as
#' [predict()]: tokenization (the model's vocabulary, lower-casing and accent stripping, punctuation and CJK
#' splitting, WordPiece) happens inside the TensorFlow graph with `tensorflow-text`, giving the token ids of
#' [bert_tokenize()]; the text is cut (`truncation`) or read in windows (`long_text = "window"`, their outputs
#' pooled by `window_pooling`) as the model's own settings say; the model's temperature and threshold apply.
#' The export loads with `tf.saved_model.load()` in any Python with TensorFlow and tensorflow-text, without
#' bertr or keras-bert, and serves in TensorFlow Serving.
#'
#' The directory holds the SavedModel (`saved_model.pb`, `variables/`, `assets/`), `model_card.json` (task,
#' labels, outputs, settings, metrics from the fit, versions; see [bert_model_card()]) and `manifest.json`
#' (size and sha256 of every file). It is written under a temporary name and renamed into place.
#'
#' Signatures: `serving_default` takes `texts` (and `pairs`) and returns `probabilities` (classifiers, as
#' [predict()]'s `type = "prob"`, but for binary models both columns) and `prediction` (the class as text;
#' 1/0 for soft and multi-label tasks; the value for regression); `tokenize` returns the `token` and `segment`
#' ids of [bert_tokenize()], padded with 0 to `seq_len`.
#'
#' @param object A `bert_classifier` from [bert_train()] or [bert_load()].
#' @param path Directory to write (it must not exist, unless `overwrite = TRUE`).
#' @param overwrite Replace an existing directory at `path` (only after the new one is complete).
#' @return The absolute path, invisibly.
#' @examples
#' \dontrun{
#' fit <- bert_train(training_data, "review", "score")
#' bert_export(fit, "review-savedmodel")
#' # in Python, without bertr:
#' #   import tensorflow as tf, tensorflow_text
#' #   model = tf.saved_model.load("review-savedmodel")
#' #   model.signatures["serving_default"](texts=tf.constant(["Great coffee!"]))
#' }
#' @export
bert_export <- function(object, path, overwrite = FALSE) {
  if (!inherits(object, "bert_classifier")) abort("`object` must be a bert_classifier from bert_train().")
  args <- core_args(path = path, overwrite = overwrite)
  py <- live_py(object)
  invisible(call_core(py$export(args$path, columns = model_columns(object), overwrite = args$overwrite)))
}

#' A fitted model's model card
#'
#' What the model predicts (task, labels, the outputs), how it reads a text (vocabulary case, `seq_len`,
#' truncation, windows), how it decides (threshold, temperature), how well it did in training (the kept epoch's
#' validation metrics), and what made it (the pretrained model, library versions): the `model_card.json` that
#' [bert_export()] writes and that [bert_serve()]'s `GET /model` returns.
#'
#' @inheritParams bert_export
#' @return A named list.
#' @export
bert_model_card <- function(object) {
  if (!inherits(object, "bert_classifier")) abort("`object` must be a bert_classifier from bert_train().")
  call_core(live_py(object)$model_card(columns = model_columns(object)))
}

model_columns <- function(object) {
  list(text = object$text, text_pair = object$text_pair, label = as.list(object$label))
}
