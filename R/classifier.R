# The `bert_classifier` object: a thin R handle on the core's fitted estimator. Its fields are what the core reports
# of the fit (BertClassifier.fitted_facts(): task, levels, settings, history, steps, the kept epoch, ...), plus the
# R facts only R knows: the column names, the label's R type and the call.

new_bert_classifier <- function(py, columns, call) {
  facts <- call_core(py$fitted_facts())
  # a model saved from Python (bertr.BertClassifier.save) has no R column names: neutral ones stand in
  columns$label <- columns$label %||% if (facts$task == "multilabel") as_levels(facts$levels) else "label"
  facts$history <- as.data.frame(lapply(facts$history, unlist), stringsAsFactors = FALSE)
  facts$steps <- as.data.frame(lapply(facts$steps, function(x) as.numeric(unlist(x))))
  facts$steps$step <- as.integer(facts$steps$step)
  facts$steps$epoch <- as.integer(facts$steps$epoch)
  facts$levels <- as_levels(facts$levels)
  facts$resumed_at <- as.integer(unlist(facts$resumed_at))
  facts$best_epoch <- facts$best_epoch %||% NA_integer_
  facts$kept_epoch <- facts$kept_epoch %||% NA_integer_
  if (!is.null(facts$threshold)) {
    facts$threshold <- as.numeric(unlist(facts$threshold))
    if (facts$task == "multilabel" && length(facts$threshold) > 1) names(facts$threshold) <- facts$levels
  }
  if (!is.null(facts$threshold_choice)) {
    facts$threshold_choice <- as.data.frame(lapply(facts$threshold_choice, unlist), stringsAsFactors = FALSE)
  }
  facts$calibration <- as_calibration(facts$calibration, facts$task, facts$levels)
  structure(
    c(list(model = py$model_, py = py), facts,
      list(text = columns$text, text_pair = columns$text_pair, label = columns$label,
           label_type = columns$label_type, call = call)),
    class = "bert_classifier"
  )
}

# Classes as R text: the one conversion for the levels and for predicted classes, so that they always match
# (numbers are written as R writes them, e.g. 0/1 labels as "0" and "1").
as_levels <- function(classes) as.character(unlist(classes))

# The Python estimator, or an error if it did not survive (e.g. the object came from saveRDS()).
live_py <- function(object) {
  if (!is_live_py(object)) {
    abort("This bert_classifier's Python model is gone (was it saved with saveRDS() and read in a new ",
          "session?). Keep models with bert_save() and bert_load() instead.")
  }
  object$py
}

is_live_py <- function(object) !is.null(object$py) && !reticulate::py_is_null_xptr(object$py)

describe_task <- function(fit) {
  task <- fit$task
  labels <- paste0("'", fit$label, "'", collapse = ", ")
  switch(task,
    binary = sprintf("Task: binary classification of %s; probabilities are for '%s' (classes: %s).",
                     labels, fit$levels[2], paste(fit$levels, collapse = ", ")),
    soft = sprintf(paste("Task: soft binary; %s is a fraction in [0, 1], predicted as a probability; classes use",
                         ">= 0.5 (choose another cut with bert_threshold())."),
                   labels),
    multiclass = sprintf("Task: multi-class classification of %s into %d classes: %s.", labels,
                         length(fit$levels), paste(fit$levels, collapse = ", ")),
    multilabel = sprintf("Task: multi-label classification, one probability for each of %s.", labels),
    regression = sprintf("Task: regression of %s (mean squared error).", labels)
  )
}
