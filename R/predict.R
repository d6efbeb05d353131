#' Predict with a fitted BERT classifier
#'
#' @param object A `bert_classifier` from [bert_train()].
#' @param newdata A data.frame (tibble, data.table) with the text column(s) used in training, or a
#'   character vector of texts (for a model trained on single texts).
#' @param type `"prob"` or `"class"` (probabilities are calibrated when the model has a temperature, see
#'   [bert_calibrate()]):
#'   * binary: the probability of the second level (see `object$levels`), or a factor with the training
#'     levels (logical for a logical label): the second level where its probability is `>= threshold`;
#'   * soft: the predicted fraction, or `TRUE`/`FALSE` (fraction `>= threshold`);
#'   * multiclass: a matrix with one named column per level, or a factor (the most probable level);
#'   * multilabel: a matrix with one named column per label, of probabilities or of `TRUE`/`FALSE`
#'     (probability `>= threshold`);
#'   * regression: the predicted values for either type.
#' @param batch_size Rows per prediction batch (`NULL`: twice the training batch size).
#' @param verbose Show a progress bar when tokenizing or predicting takes more than a few seconds.
#' @param threshold With `type = "class"`: the probability at or above which a binary, soft or multi-label
#'   prediction is positive (one, or one per label in the order of `object$levels` or named by label). `NULL`:
#'   the model's own, set by [bert_threshold()], else 0.5.
#' @param long_text,stride,window_pooling How texts longer than the model's `seq_len` are read (see
#'   [bert_train()]): `"truncate"` (one window, cut by the model's `truncation`) or `"window"` (overlapping
#'   windows `stride` tokens apart, their outputs pooled per text by `window_pooling`, `"mean"` or `"max"`).
#'   `NULL`: the model's own settings.
#' @param precision `"model"` (the network as fitted) or `"int8"`: int8 weights with activations quantized per
#'   batch, run by ONNX Runtime (the optional Python packages onnxruntime and tf2onnx, installed by
#'   [install_bertr()]). On a CPU it predicts about 2x faster; a text's probability can move by up to about 0.1
#'   (0.12 at most over the benchmark's 1,000 reviews, whose test AUC moved by 0.0001); as activations are
#'   quantized per batch, a text's
#'   probability can differ in the fourth decimal with the other texts of its batch. The model is converted at its
#'   first int8 prediction in an R session (seconds), then kept while the model is loaded.
#' @param ... Unused.
#' @return A vector, factor or matrix with one element (row) per row of `newdata`, in its order; for no rows,
#'   one of length 0 (or with 0 rows) of the same type, levels and column names.
#' @export
predict.bert_classifier <- function(object, newdata, type = c("prob", "class"), batch_size = NULL,
                                    verbose = interactive(), threshold = NULL, long_text = NULL, stride = NULL,
                                    window_pooling = NULL, precision = "model", ...) {
  type <- match.arg(type)
  input <- newdata_input(object, newdata)
  py <- live_py(object)
  if (!is.null(threshold) && type == "prob") abort("`threshold` applies to `type = \"class\"` predictions.")
  args <- prediction_args(input, batch_size, verbose, long_text, stride, window_pooling, precision)
  # The core computes both kinds (Task.probabilities and Task.predict, where every decision is made); R only
  # gives them R's types: level names and factors, logicals, named matrix columns.
  if (type == "prob") return(as_probabilities(object, call_core(do.call(py$predict_proba, args))))
  decided <- call_core(do.call(py$predict, c(args, core_args(threshold = by_label(threshold, object)))))
  as_decisions(object, decided)
}

# predict()'s two answers from one pass of the network (bert_serve() answers both): list(prob =, class =).
predict_both <- function(object, newdata, threshold = NULL, batch_size = NULL, verbose = FALSE) {
  input <- newdata_input(object, newdata)
  py <- live_py(object)
  args <- c(prediction_args(input, batch_size, verbose, NULL, NULL, NULL),
            core_args(threshold = by_label(threshold, object)))
  both <- call_core(do.call(py$predict_both, args))
  list(prob = as_probabilities(object, both[[1]]), class = as_decisions(object, both[[2]]))
}

prediction_args <- function(input, batch_size, verbose, long_text, stride, window_pooling, precision = "model") {
  c(list(input$texts, pairs = input$pairs, report = if (isTRUE(verbose)) progress_reporter()),
    core_args(batch_size = batch_size, long_text = long_text, stride = stride, window_pooling = window_pooling,
              precision = precision))
}

# The core's probabilities (Task.probabilities) as predict(type = "prob") returns them.
as_probabilities <- function(object, prob) {
  switch(object$task,
    binary = as.numeric(prob[, 2]),
    multiclass = ,
    multilabel = {
      colnames(prob) <- object$levels
      prob
    },
    as.numeric(prob)
  )
}

# The core's decisions (Task.predict) as predict(type = "class") returns them.
as_decisions <- function(object, decided) {
  switch(object$task,
    binary = ,
    multiclass = {
      classes <- as_levels(decided)
      if (identical(object$label_type, "logical")) as.logical(classes) else factor(classes, levels = object$levels)
    },
    soft = as.logical(decided),
    multilabel = matrix(as.logical(decided), nrow = NROW(decided), ncol = length(object$levels),
                        dimnames = list(NULL, object$levels)),
    as.numeric(decided)
  )
}

#' Evaluate a fitted BERT classifier on labelled data
#'
#' @param object A `bert_classifier`.
#' @param newdata A data.frame with the text and label columns used in training.
#' @param verbose Show a progress bar when tokenizing or predicting takes more than a few seconds.
#' @inheritParams predict.bert_classifier
#' @return A one-row data.frame: `n` and the task's metrics: `loss` (the log loss), `accuracy` (decided at the
#'   model's threshold, see [bert_threshold()]), `auc` (ROC AUC; for multiclass the macro one-vs-rest mean, with
#'   `macro_f1`; for multilabel the mean over labels) and `ece` (the expected calibration error in 15 bins, see
#'   [bert_calibrate()]) for classification, of the model's probabilities (calibrated when it has a temperature);
#'   `loss` (MSE), `rmse`, `mae` and `r2` for regression. For no rows: `n = 0` and `NaN` metrics.
#' @export
bert_evaluate <- function(object, newdata, verbose = interactive(), long_text = NULL, stride = NULL,
                          window_pooling = NULL, precision = "model") {
  input <- labelled_input(object, newdata)
  py <- live_py(object)
  reporter <- if (isTRUE(verbose)) progress_reporter() else NULL
  args <- c(list(input$texts, input$labels, pairs = input$pairs, report = reporter),
            core_args(long_text = long_text, stride = stride, window_pooling = window_pooling,
                      precision = precision))
  metrics <- call_core(do.call(py$evaluate, args))
  data.frame(n = length(input$texts), metrics)
}

# The texts (and pairs) of `newdata` with its labels, for the verbs that score a model on labelled data.
labelled_input <- function(object, newdata) {
  input <- newdata_input(object, newdata)
  if (!is.data.frame(newdata)) abort("`newdata` must be a data.frame with the label column(s) too.")
  for (column in object$label) check_column_name(newdata, column, "label")
  c(input, list(labels = label_input(newdata, object$label)$values))
}
