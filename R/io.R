#' Save and load a fitted BERT classifier
#'
#' `bert_save()` writes a fitted model to a self-describing directory: its weights (`weights.safetensors`),
#' the encoder's `config.json`, the `vocab.txt`, and a `manifest.json` with the task, the label levels,
#' `seq_len` and the other settings, the training history, the R column names, the versions of bertr and
#' its libraries, and the size and sha256 of every file. The directory is written under a temporary name and
#' renamed into place, so an interrupted save never leaves a half-written model.
#'
#' `bert_load()` reads it back, in this or any later R session, as a `bert_classifier` whose predictions
#' are identical to the original's. Loading reads only JSON and safetensors (no pickle, no code, no Keras
#' Lambda layers), rebuilds the network from bertr's own code and verifies every file first: a truncated,
#' edited or incomplete directory is an error that names the file.
#'
#' A `bert_classifier` holds a live Python model, so `saveRDS()` cannot keep it; use these instead.
#'
#' @param object A `bert_classifier` from [bert_train()] or [bert_load()].
#' @param path Directory to write (it must not exist, unless `overwrite = TRUE`) or to read.
#' @param overwrite Replace an existing directory at `path` (only after the new one is complete).
#' @return `bert_save()`: the absolute path, invisibly. `bert_load()`: a `bert_classifier`.
#' @examples
#' \dontrun{
#' fit <- bert_train(training_data, "review", "score")
#' bert_save(fit, "review-model")
#' fit2 <- bert_load("review-model")
#' all.equal(predict(fit, testing_data), predict(fit2, testing_data))
#' }
#' @export
bert_save <- function(object, path, overwrite = FALSE) {
  if (!inherits(object, "bert_classifier")) abort("`object` must be a bert_classifier from bert_train().")
  if (!is.character(path) || length(path) != 1 || is.na(path) || !nzchar(path)) {
    abort("`path` must be one directory path.")
  }
  if (!is.logical(overwrite) || length(overwrite) != 1 || is.na(overwrite)) {
    abort("`overwrite` must be TRUE or FALSE.")
  }
  path <- path.expand(path)
  py <- live_py(object)
  extra <- list(
    r_text = object$text, r_text_pair = object$text_pair, r_label = as.list(object$label),
    r_label_type = object$label_type, r_settings = object$settings,
    r_call = paste(deparse(object$call), collapse = " ")
  )
  saved <- call_core(py$save(path, extra = extra, overwrite = overwrite))
  invisible(saved)
}

#' @rdname bert_save
#' @export
bert_load <- function(path) {
  if (!is.character(path) || length(path) != 1 || is.na(path) || !nzchar(path)) {
    abort("`path` must be one directory path.")
  }
  bertr <- bertr_core()
  py <- call_core(bertr$load_model(path.expand(path)))
  extra <- py$saved_$extra
  call <- tryCatch(str2lang(extra$r_call), error = function(e) NULL)
  # models saved from Python (bertr.BertClassifier.save) lack the R facts: use neutral names
  params <- py$get_params()
  settings <- extra$r_settings
  if (is.null(settings)) settings <- params[c("seq_len", "epochs", "batch_size", "learning_rate",
                                              "validation_split", "seed")]
  label <- unlist(extra$r_label)
  if (is.null(label)) label <- if (py$task_$name == "multilabel") unlist(py$classes_) else "label"
  new_bert_classifier(
    py, text = if (is.null(extra$r_text)) "text" else extra$r_text,
    text_pair = extra$r_text_pair, label = label, label_type = extra$r_label_type,
    settings = settings, call = call
  )
}
