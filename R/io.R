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
  args <- core_args(path = path, overwrite = overwrite)
  py <- live_py(object)
  # the R facts the core does not know (its own facts it writes itself), for bert_load()
  extra <- list(
    r_text = object$text, r_text_pair = object$text_pair, r_label = as.list(object$label),
    r_label_type = object$label_type, r_call = paste(deparse(object$call), collapse = " ")
  )
  invisible(call_core(py$save(args$path, extra = extra, overwrite = args$overwrite)))
}

#' @rdname bert_save
#' @export
bert_load <- function(path) {
  path <- as_path(path, "path")
  py <- call_core(bertr_core()$load_model(path))
  extra <- py$saved_$extra
  # models saved from Python (bertr.BertClassifier.save) lack the R facts: neutral column names are used;
  # models saved by `python -m bertr train` name their columns in `text`, `text_pair` and `label`
  columns <- list(text = extra$r_text %||% extra$text %||% "text", text_pair = extra$r_text_pair %||% extra$text_pair,
                  label = unlist(extra$r_label %||% extra$label), label_type = extra$r_label_type)
  new_bert_classifier(py, columns, call = tryCatch(str2lang(extra$r_call), error = function(e) NULL))
}
