#' Calibrate a classifier's probabilities (temperature scaling)
#'
#' Fine-tuned BERT models tend to state probabilities more extreme than they deserve (Guo et al. 2017, "On
#' Calibration of Modern Neural Networks"): of the texts given 0.95, fewer than 95% are positive. Where the
#' probabilities themselves are acted on (moderation queues, triage), `bert_calibrate()` fits temperature scaling
#' on held-out labelled data (never the training rows): one number `T > 0` by which the network's logits are
#' divided, the one with the least log loss on `data`. It returns the model with it: `predict(type = "prob")`,
#' [bert_evaluate()] and [bert_threshold()] then read calibrated probabilities, and [bert_save()] keeps it.
#'
#' A temperature keeps the order of a binary or multi-label model's scores, so AUC and the bias metrics do not
#' change (a multi-class model's one-vs-rest AUC can move a little: the softmax couples the classes); nor does any
#' decision: 0.5 (a logit of 0) and the most probable class stay put, and a threshold the model has (from
#' [bert_threshold()]) is carried to the calibrated scale so that it flags the same texts (with a message). Choose a
#' threshold after calibrating to have it on the calibrated scale from the start. The temperature is fitted from
#' the network's own outputs, whatever temperature `object` already has. Texts are read as `long_text` says (the
#' model's setting by default): calibrate with the settings you will predict with.
#'
#' The expected calibration error (ECE, also a column of [bert_evaluate()]) puts the rows in 15 equal-width bins
#' of the predicted probability and averages, weighted by the bins' rows, the gap between a bin's mean
#' probability and what was observed in it: for binary and soft models the probability of the positive class
#' against the fraction of positives (the mean soft label); for multi-class the probability of the most probable
#' class against the accuracy; for multi-label the mean over labels. A temperature below 1 sharpens
#' under-confident probabilities. If the model decides every row of `data` right, the log loss keeps falling as
#' the temperature goes to 0 and no temperature minimises it: an error that asks for more held-out rows.
#'
#' @param object A `bert_classifier` of a binary, soft, multi-class or multi-label task.
#' @param data A data.frame with the text and label columns used in training, held out from training, to fit the
#'   temperature on; or `NULL`: with `temperature` to set one, else to remove the calibration.
#' @param temperature Instead of `data`: a temperature to set (a number > 0; 1 leaves the probabilities as they
#'   are). `NULL` with no `data` removes the calibration.
#' @param verbose Show a progress bar when predicting takes more than a few seconds.
#' @inheritParams predict.bert_classifier
#' @return The model, with `$temperature` (`NULL` when not calibrated) and `$calibration`, a `bert_calibration`
#'   (`NULL` for a temperature set by hand): a list of `temperature`, `n` (rows of `data`), `metrics` (a
#'   data.frame with a row `"before"` and a row `"after"` and [bert_evaluate()]'s columns on `data`: `loss` is the
#'   log loss, `ece` the expected calibration error), `reliability` (a data.frame of the bins before and after:
#'   `when`, `lower`, `upper`, `n`, `predicted` (mean probability), `observed` (fraction positive, or accuracy)),
#'   `bins`, `long_text`, `task` and `positive`. It prints, and [plot()] draws the reliability diagram
#'   ([plot.bert_calibration()]). The model shares the network with `object`, which keeps its own temperature.
#' @examples
#' \dontrun{
#' fit <- bert_train(training_data, "review", "score")
#' fit <- bert_calibrate(fit, calibration_data)
#' fit$temperature
#' fit$calibration$metrics # log loss and ECE on calibration_data, before and after
#' plot(fit$calibration)
#' predict(fit, new_reviews) # calibrated probabilities
#' bert_calibrate(fit) # back to the network's own probabilities
#' }
#' @export
bert_calibrate <- function(object, data = NULL, temperature = NULL, verbose = interactive(), long_text = NULL,
                           stride = NULL, window_pooling = NULL) {
  if (!inherits(object, "bert_classifier")) abort("`object` must be a bert_classifier from bert_train().")
  py <- live_py(object)
  facts <- NULL
  if (!is.null(data)) {
    if (!is.null(temperature)) abort("Give `data` to fit a temperature, or `temperature` to set one; not both.")
    input <- labelled_input(object, data)
    reporter <- if (isTRUE(verbose)) progress_reporter() else NULL
    args <- c(list(input$texts, input$labels, pairs = input$pairs, report = reporter),
              core_args(long_text = long_text, stride = stride, window_pooling = window_pooling))
    facts <- call_core(do.call(py$calibrate, args))
    temperature <- facts$temperature
    for (message in unlist(facts$warnings)) warning(bertr_warning(message))
  }
  calibrated <- call_core(py$with_temperature(core_args(temperature = temperature)$temperature, facts))
  columns <- list(text = object$text, text_pair = object$text_pair, label = object$label,
                  label_type = object$label_type)
  result <- new_bert_classifier(calibrated, columns, object$call)
  if (!is.null(object$threshold) && !isTRUE(all.equal(result$threshold, object$threshold))) {
    message(sprintf("The threshold %s was carried to the new probability scale: %s flags the same texts.",
                    paste(format(object$threshold, digits = 3), collapse = ", "),
                    paste(format(result$threshold, digits = 3), collapse = ", ")))
  }
  result
}

# The core's calibration facts as R objects: the metrics and the reliability bins as data.frames.
as_calibration <- function(facts, task, levels) {
  if (is.null(facts)) return(NULL)
  frame <- function(columns) { # NaN (an empty bin's means) stays NaN
    as.data.frame(lapply(columns, function(values) unlist(lapply(values, function(v) v %||% NA))),
                  stringsAsFactors = FALSE)
  }
  metrics <- frame(facts$metrics)
  rownames(metrics) <- metrics$when
  metrics$when <- NULL
  reliability <- frame(facts$reliability)
  reliability$n <- as.integer(reliability$n)
  structure(list(
    temperature = facts$temperature, n = as.integer(facts$n), metrics = metrics, reliability = reliability,
    bins = as.integer(facts$bins), long_text = facts$long_text, task = task,
    positive = if (task == "binary") levels[2]
  ), class = "bert_calibration")
}

# "1.83 (fitted on 1000 rows: ECE 0.081 -> 0.012, log loss 0.412 -> 0.351)", "1.5 (set)".
describe_calibration <- function(x) {
  value <- format(x$temperature, digits = 3)
  cal <- x$calibration
  if (is.null(cal)) return(paste(value, "(set)"))
  m <- cal$metrics
  sprintf("%s (fitted on %d rows: ECE %.3f -> %.3f, log loss %.3f -> %.3f)", value, cal$n, m["before", "ece"],
          m["after", "ece"], m["before", "loss"], m["after", "loss"])
}

#' @export
print.bert_calibration <- function(x, ...) {
  cat(sprintf("<bert_calibration> temperature %s, fitted on %d held-out rows (%d bins; long_text = \"%s\")\n",
              format(x$temperature, digits = 4), x$n, x$bins, x$long_text))
  print(x$metrics, digits = 4)
  invisible(x)
}

#' Plot a reliability diagram before and after calibration
#'
#' The calibration bins of [bert_calibrate()]: each bin's mean predicted probability against what was observed
#' in it (the fraction of positives; for multi-class the accuracy of the most probable class), before (grey) and
#' after (blue) temperature scaling, the points sized by the bin's rows and the diagonal (perfect calibration)
#' dashed. Bars along the bottom show the share of rows in each bin after calibration. The legend gives the ECE
#' and log loss before and after.
#'
#' @param x A `bert_calibration`: `fit$calibration` of a model from [bert_calibrate()].
#' @param ... Passed to [plot()].
#' @return `x`, invisibly.
#' @examples
#' \dontrun{
#' fit <- bert_calibrate(fit, calibration_data)
#' plot(fit$calibration)
#' }
#' @export
plot.bert_calibration <- function(x, ...) {
  bins <- x$reliability
  what <- switch(x$task,
    binary = c(sprintf("predicted probability of '%s'", x$positive), sprintf("observed fraction '%s'", x$positive)),
    multiclass = c("probability of the most probable class", "accuracy"),
    multilabel = c("predicted probability (all labels)", "observed fraction"),
    c("predicted probability", "observed fraction")
  )
  old <- graphics::par(mar = c(4, 4, 2.5, 1))
  on.exit(graphics::par(old))
  graphics::plot(c(0, 1), c(0, 1), type = "n", xlab = what[1], ylab = what[2],
                 main = sprintf("Reliability (temperature %s)", format(x$temperature, digits = 3)), ...)
  after <- bins[bins$when == "after", ]
  share <- after$n / max(1, sum(after$n))
  graphics::rect(after$lower, 0, after$upper, 0.25 * share / max(share, 1e-12), col = "grey90", border = "white")
  graphics::abline(0, 1, lty = 2, col = "grey40")
  colours <- c(before = "grey55", after = "steelblue")
  for (when in names(colours)) {
    rows <- bins[bins$when == when & bins$n > 0, ]
    graphics::lines(rows$predicted, rows$observed, col = colours[[when]], lwd = 2)
    graphics::points(rows$predicted, rows$observed, pch = 19, col = colours[[when]],
                     cex = 0.6 + 2 * sqrt(rows$n / max(bins$n)))
  }
  m <- x$metrics
  graphics::legend("topleft", bty = "n", cex = 0.8, lwd = c(2, 2, 1, NA), lty = c(1, 1, 2, NA),
                   col = c(colours, "grey40", NA), fill = c(NA, NA, NA, "grey90"), border = NA,
                   legend = c(sprintf("before: ECE %.3f, log loss %.3f", m["before", "ece"], m["before", "loss"]),
                              sprintf("after:  ECE %.3f, log loss %.3f", m["after", "ece"], m["after", "loss"]),
                              "perfect calibration", sprintf("rows per bin (after; %d in all)", x$n)))
  invisible(x)
}
