#' Choose or set the decision threshold of a fitted classifier
#'
#' A binary, soft or multi-label model decides for the positive class (or label) when its probability is at or
#' above a threshold, 0.5 unless told otherwise. Moderation and triage rarely want 0.5: `bert_threshold()` chooses
#' the threshold that best meets `metric` on held-out labelled data (never the training rows), or sets one you
#' give, and returns the model with it: `predict(type = "class")` and [bert_evaluate()]'s accuracy then use it, and
#' [bert_save()] keeps it. The probabilities themselves do not change.
#'
#' Candidates are the distinct predicted probabilities of `data`; the threshold is put halfway between the chosen
#' one and the next lower one. For a multi-label model each label gets its own threshold.
#'
#' @param object A `bert_classifier` (binary, soft or multi-label).
#' @param data A data.frame with the text and label columns used in training, to choose the threshold on; or
#'   `NULL` with `threshold`.
#' @param metric What the threshold should achieve on `data`: `"f1"` (the F1 score of the positive class, the
#'   default), `"youden"` (sensitivity + specificity - 1), `"accuracy"`, or a target: `c(precision = 0.9)` (the
#'   lowest threshold with at least that precision, i.e. the most recall at it) or `c(recall = 0.8)` (of the
#'   thresholds with at least that recall, the one with the most precision).
#' @param threshold Instead of `data`: the threshold to set (one, or one per label in the order of
#'   `object$levels` or named by label); `NULL` with no `data` goes back to 0.5.
#' @param verbose Show a progress bar when predicting takes more than a few seconds.
#' @inheritParams predict.bert_classifier
#' @return The model, with `$threshold` (the threshold(s) in force) and `$threshold_choice` (a data.frame, one row
#'   per label: `label`, `threshold`, `metric`, `value` (the criterion, or the precision / recall reached), the
#'   `precision`, `recall`, `f1` and `accuracy` at it, `n` and `positives`). It shares the network with `object`,
#'   which keeps its own threshold.
#' @examples
#' \dontrun{
#' fit <- bert_train(training_data, "comment_text", "target")
#' fit <- bert_threshold(fit, validation_data, metric = c(precision = 0.8))
#' fit$threshold_choice
#' predict(fit, new_comments, type = "class")
#' }
#' @export
bert_threshold <- function(object, data = NULL, metric = "f1", threshold = NULL, verbose = interactive(),
                           long_text = NULL, stride = NULL, window_pooling = NULL) {
  if (!inherits(object, "bert_classifier")) abort("`object` must be a bert_classifier from bert_train().")
  py <- live_py(object)
  choice <- NULL
  if (!is.null(data)) {
    if (!is.null(threshold)) abort("Give `data` to choose a threshold, or `threshold` to set one; not both.")
    input <- labelled_input(object, data)
    reporter <- if (isTRUE(verbose)) progress_reporter() else NULL
    args <- c(list(input$texts, input$labels, pairs = input$pairs, report = reporter),
              core_args(metric = metric, long_text = long_text, stride = stride, window_pooling = window_pooling))
    choice <- call_core(do.call(py$choose_threshold, args))
    threshold <- unlist(choice$threshold)
  }
  tuned <- call_core(py$with_threshold(core_args(threshold = by_label(threshold, object))$threshold, choice))
  columns <- list(text = object$text, text_pair = object$text_pair, label = object$label,
                  label_type = object$label_type)
  new_bert_classifier(tuned, columns, object$call)
}

# Thresholds named by label (multi-label models) put in the order of the model's labels, which the core expects.
by_label <- function(threshold, object) {
  if (is.null(names(threshold)) || length(threshold) < 2) return(threshold)
  if (!setequal(names(threshold), object$levels) || anyDuplicated(names(threshold))) {
    abort("`threshold`'s names must be the model's labels, each once: ", paste(object$levels, collapse = ", "), ".")
  }
  threshold[object$levels]
}

# "0.37 (f1 0.81 on 200 rows)", "0.3, 0.6 (set)": the threshold in force, and how it was chosen.
describe_threshold <- function(x) {
  values <- paste(format(x$threshold, digits = 3), collapse = ", ")
  choice <- x$threshold_choice
  if (is.null(choice) || !nrow(choice)) return(paste(values, "(set)"))
  sprintf("%s (chosen for %s: %s on %d rows)", values, choice$metric[1],
          paste(format(choice$value, digits = 3), collapse = ", "), as.integer(choice$n[1]))
}
