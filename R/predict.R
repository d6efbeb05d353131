#' Predict with a fitted BERT classifier
#'
#' @param object A `bert_classifier` from [bert_train()].
#' @param newdata A data.frame (tibble, data.table) with the text column(s) used in training, or a
#'   character vector of texts (for a model trained on single texts).
#' @param type `"prob"` or `"class"`:
#'   * binary: the probability of the second level (see `object$levels`), or a factor with the training
#'     levels (logical for a logical label);
#'   * soft: the predicted fraction, or `TRUE`/`FALSE` (fraction `>= 0.5`);
#'   * multiclass: a matrix with one named column per level, or a factor;
#'   * multilabel: a matrix with one named column per label, of probabilities or of `TRUE`/`FALSE`;
#'   * regression: the predicted values for either type.
#' @param batch_size Rows per prediction batch (`NULL`: twice the training batch size).
#' @param verbose Show a progress bar when tokenizing or predicting takes more than a few seconds.
#' @param ... Unused.
#' @return A vector, factor or matrix with one element (row) per row of `newdata`, in its order; for no rows,
#'   one of length 0 (or with 0 rows) of the same type, levels and column names.
#' @export
predict.bert_classifier <- function(object, newdata, type = c("prob", "class"), batch_size = NULL,
                                    verbose = interactive(), ...) {
  type <- match.arg(type)
  input <- newdata_input(object, newdata)
  py <- live_py(object)
  bs <- if (is.null(batch_size)) NULL else whole_number(batch_size, "batch_size")
  reporter <- if (isTRUE(verbose)) progress_reporter() else NULL
  prob <- call_core(py$predict_proba(input$texts, pairs = input$pairs, batch_size = bs, report = reporter))
  switch(object$task,
    binary = {
      p <- as.numeric(prob[, 2])
      if (type == "prob") return(p)
      cls <- object$levels[(p >= 0.5) + 1L]
      if (identical(object$label_type, "logical")) return(as.logical(cls))
      factor(cls, levels = object$levels)
    },
    soft = if (type == "prob") as.numeric(prob) else as.numeric(prob) >= 0.5,
    multiclass = {
      colnames(prob) <- object$levels
      if (type == "prob") return(prob)
      factor(object$levels[max.col(prob, ties.method = "first")], levels = object$levels)
    },
    multilabel = {
      colnames(prob) <- object$levels
      if (type == "prob") prob else prob >= 0.5
    },
    regression = as.numeric(prob)
  )
}

#' Evaluate a fitted BERT classifier on labelled data
#'
#' @param object A `bert_classifier`.
#' @param newdata A data.frame with the text and label columns used in training.
#' @param verbose Show a progress bar when tokenizing or predicting takes more than a few seconds.
#' @return A one-row data.frame: `n` and the task's metrics: `loss`, `accuracy` and `auc` (ROC AUC; for
#'   multiclass the macro one-vs-rest mean, with `macro_f1`; for multilabel the mean over labels) for
#'   classification; `loss` (MSE), `rmse`, `mae` and `r2` for regression. For no rows: `n = 0` and `NaN`
#'   metrics.
#' @export
bert_evaluate <- function(object, newdata, verbose = interactive()) {
  input <- newdata_input(object, newdata)
  if (!is.data.frame(newdata)) abort("`newdata` must be a data.frame with the label column(s) too.")
  for (column in object$label) check_column_name(newdata, column, "label")
  labels <- label_input(newdata, object$label)
  py <- live_py(object)
  reporter <- if (isTRUE(verbose)) progress_reporter() else NULL
  metrics <- call_core(py$evaluate(input$texts, labels$values, pairs = input$pairs, report = reporter))
  data.frame(n = length(input$texts), metrics)
}

# Texts (and paired texts) of `newdata`, as lists for the core.
newdata_input <- function(object, newdata) {
  if (!inherits(object, "bert_classifier")) abort("`object` must be a bert_classifier from bert_train().")
  if (is.data.frame(newdata)) {
    pairs <- if (is.null(object$text_pair)) NULL else as.list(text_column(newdata, object$text_pair, "text_pair"))
    return(list(texts = as.list(text_column(newdata, object$text)), pairs = pairs))
  }
  if (is.character(newdata) || is.factor(newdata)) {
    if (!is.null(object$text_pair)) {
      abort("This model reads text pairs: give `newdata` as a data.frame with columns '", object$text,
            "' and '", object$text_pair, "'.")
    }
    return(list(texts = as.list(as_texts(newdata, "`newdata`")), pairs = NULL))
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
