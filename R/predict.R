#' Predict with a fitted BERT classifier
#'
#' @param object A `bert_classifier` from [bert_train()].
#' @param newdata A data.frame (tibble, data.table) with the text column used in training, or a
#'   character vector of texts.
#' @param type `"prob"` for the probability of the second label level (see `object$levels`), or
#'   `"class"` for a factor with the training levels.
#' @param batch_size Rows per prediction batch (`NULL`: twice the training batch size).
#' @param ... Unused.
#' @return A numeric vector (`"prob"`) or factor (`"class"`), one element per row of `newdata`, in its order.
#' @export
predict.bert_classifier <- function(object, newdata, type = c("prob", "class"), batch_size = NULL, ...) {
  type <- match.arg(type)
  texts <- newdata_texts(object, newdata)
  py <- live_py(object)
  bs <- if (is.null(batch_size)) NULL else whole_number(batch_size, "batch_size")
  prob <- call_core(py$predict_proba(as.list(texts), batch_size = bs))[, 2]
  if (type == "prob") return(as.numeric(prob))
  factor(object$levels[(prob >= 0.5) + 1L], levels = object$levels)
}

#' Evaluate a fitted BERT classifier on labelled data
#'
#' @param object A `bert_classifier`.
#' @param newdata A data.frame with the text and label columns used in training.
#' @return A one-row data.frame: `n`, `auc` (ROC AUC), `accuracy` (threshold 0.5) and `loss`
#'   (binary cross-entropy).
#' @export
bert_evaluate <- function(object, newdata) {
  texts <- newdata_texts(object, newdata)
  check_column_name(newdata, object$label, "label")
  labels <- as.character(newdata[[object$label]])
  unseen <- setdiff(unique(labels[!is.na(labels)]), object$levels)
  if (length(unseen)) {
    abort("Column '", object$label, "' of `newdata` has label(s) not seen in training: ",
          paste(utils::head(unseen, 5), collapse = ", "), ".")
  }
  py <- live_py(object)
  metrics <- call_core(py$evaluate(as.list(texts), as.list(labels)))
  data.frame(n = length(texts), auc = metrics$auc, accuracy = metrics$accuracy, loss = metrics$loss)
}

newdata_texts <- function(object, newdata) {
  if (!inherits(object, "bert_classifier")) abort("`object` must be a bert_classifier from bert_train().")
  if (is.data.frame(newdata)) {
    if (nrow(newdata) == 0) abort("`newdata` has no rows.")
    return(text_column(newdata, object$text))
  }
  if (is.character(newdata) || is.factor(newdata)) {
    if (length(newdata) == 0) abort("`newdata` has no texts.")
    return(as_texts(newdata, "`newdata`"))
  }
  abort("`newdata` must be a data.frame with column '", object$text, "' or a character vector, not ",
        class(newdata)[1], ".")
}

# The Python estimator, or an error if it did not survive (e.g. the object came from saveRDS()).
live_py <- function(object) {
  if (is.null(object$py) || reticulate::py_is_null_xptr(object$py)) {
    abort("This bert_classifier's Python model is gone (was it saved with saveRDS() and read in a new ",
          "session?). Keep models with bert_save() and bert_load() instead.")
  }
  object$py
}
