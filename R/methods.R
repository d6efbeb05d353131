#' @export
print.bert_classifier <- function(x, ...) {
  p <- x$pretrained
  task <- c(binary = "binary classifier", soft = "soft binary classifier", multiclass = "multi-class classifier",
            multilabel = "multi-label classifier", regression = "regression model")[[x$task]]
  text <- paste0("'", x$text, "'", if (!is.null(x$text_pair)) paste0(" + '", x$text_pair, "' (pairs)"))
  cat("<bert_classifier> ", task, " of ", paste0("'", x$label, "'", collapse = ", "), " from text ", text, "\n",
      sep = "")
  cat(sprintf("  pretrained:  %s (%s; %d layers, hidden %d, vocab %d)\n", p$name, p$layout,
              as.integer(p$num_hidden_layers), as.integer(p$hidden_size), as.integer(p$vocab_size)))
  if (x$task == "binary") {
    cat(sprintf("  classes:     %s; probabilities are for '%s'\n", paste(x$levels, collapse = ", "), x$levels[2]))
  } else if (x$task %in% c("multiclass", "multilabel")) {
    cat(sprintf("  %s %s\n", if (x$task == "multiclass") "classes:    " else "labels:     ",
                paste(x$levels, collapse = ", ")))
  }
  s <- x$settings
  cat(sprintf("  trained on:  %d rows (%d held out for validation)\n", as.integer(x$n_train),
              as.integer(x$n_validation)))
  cat(sprintf("  settings:    %d epoch(s), seq_len %d, batch %d, learning rate %g\n", s$epochs, s$seq_len,
              s$batch_size, s$learning_rate))
  if (nrow(x$history)) {
    kept <- x$kept_epoch
    row <- as.list(x$history[kept, , drop = FALSE])
    what <- if (kept < nrow(x$history)) sprintf("  epoch %d:    ", kept) else "  last epoch: "
    cat(what, format_metrics(row), if (kept < nrow(x$history)) " (best, kept)", "\n", sep = "")
    if (isTRUE(x$stopped_early)) cat(sprintf("  stopped early after epoch %d\n", nrow(x$history)))
  }
  if (!is.null(x$threshold)) cat(sprintf("  threshold:   %s\n", describe_threshold(x)))
  if (!is.null(x$temperature)) cat(sprintf("  temperature: %s\n", describe_calibration(x)))
  cat(sprintf("  devices:     %s\n", x$distribution_text))
  cat(sprintf("  time:        %s\n", format_seconds(x$fit_seconds)))
  invisible(x)
}

#' Summarise a fitted BERT classifier
#'
#' @param object A `bert_classifier`.
#' @param ... Unused.
#' @return An object of class `summary.bert_classifier` (printed): the task and labels, the pretrained
#'   model, all training settings, the data sizes, the per-epoch `history` (with seconds per epoch), the
#'   final (or, with early stopping, the kept best epoch's) metrics, how training ended, and the decision
#'   threshold and temperature (see [bert_threshold()], [bert_calibrate()]) when the model has them.
#' @export
summary.bert_classifier <- function(object, ...) {
  history <- object$history
  kept <- object$kept_epoch
  metrics <- if (nrow(history)) history[kept, setdiff(names(history), c("epoch", "step", "seconds")), drop = FALSE]
  structure(list(
    task = object$task, label = object$label, text = object$text, text_pair = object$text_pair,
    levels = object$levels, pretrained = object$pretrained, settings = object$settings,
    settings_text = unlist(object$settings_text), n_train = object$n_train, n_validation = object$n_validation,
    history = history, kept_epoch = kept, metrics = metrics, stopped_early = object$stopped_early,
    resumed_at = object$resumed_at, fit_seconds = object$fit_seconds, steps = nrow(object$steps),
    distribution_text = object$distribution_text,
    threshold = if (!is.null(object$threshold)) describe_threshold(object),
    temperature = if (!is.null(object$temperature)) describe_calibration(object)
  ), class = "summary.bert_classifier")
}

#' @export
print.summary.bert_classifier <- function(x, ...) {
  cat("BERT ", x$task, " model of ", paste0("'", x$label, "'", collapse = ", "), " from text '", x$text, "'",
      if (!is.null(x$text_pair)) paste0(" + '", x$text_pair, "'"), "\n", sep = "")
  if (length(x$levels)) cat("Levels:     ", paste(x$levels, collapse = ", "), "\n")
  p <- x$pretrained
  cat(sprintf("Pretrained:  %s (%s): %d layers, hidden %d, %d heads, vocab %d\n", p$name, p$layout,
              as.integer(p$num_hidden_layers), as.integer(p$hidden_size), as.integer(p$num_attention_heads),
              as.integer(p$vocab_size)))
  cat(sprintf("Data:        %s training rows, %s validation rows\n", format_count(x$n_train),
              format_count(x$n_validation)))
  cat(strwrap(paste(x$settings_text, collapse = ", "), width = 100, initial = "Settings:    ",
              prefix = "             "), sep = "\n")
  cat("\nHistory (one row per epoch; seconds = time per epoch):\n")
  print(x$history, row.names = FALSE, digits = 4)
  how <- if (isTRUE(x$stopped_early)) {
    sprintf("stopped early after %d epoch(s); weights of epoch %d kept", nrow(x$history), x$kept_epoch)
  } else {
    sprintf("%d epoch(s), %d steps", nrow(x$history), x$steps)
  }
  if (length(x$resumed_at)) how <- paste0(how, "; resumed from checkpoint(s) at step ",
                                          paste(x$resumed_at, collapse = ", "))
  cat("\nTraining:   ", how, sprintf("in %s", format_seconds(x$fit_seconds)), "on", x$distribution_text, "\n")
  if (!is.null(x$metrics) && ncol(x$metrics)) {
    cat(sprintf("Metrics (epoch %d): %s\n", x$kept_epoch, format_metrics(as.list(x$metrics))))
  }
  if (!is.null(x$threshold)) cat("Threshold:  ", x$threshold, "\n")
  if (!is.null(x$temperature)) cat("Temperature:", x$temperature, "\n")
  invisible(x)
}

#' Plot the training curves of a BERT classifier
#'
#' Left: the training loss of every step (grey) with its running mean per epoch, and the validation loss
#' after each epoch. Right: the validation metric per epoch (the early-stopping monitor, else the task's
#' usual one: AUC, accuracy for multi-class, RMSE for regression), the kept epoch circled; without
#' validation rows, the learning-rate schedule instead.
#'
#' @param x A `bert_classifier`.
#' @param ... Passed to the left panel's [plot()] call.
#' @return `x`, invisibly.
#' @export
plot.bert_classifier <- function(x, ...) {
  steps <- x$steps
  history <- x$history
  old <- graphics::par(mfrow = c(1, 2), mar = c(4, 4, 2.5, 1))
  on.exit(graphics::par(old))
  ylim <- range(c(steps$loss, history$loss, history$val_loss), finite = TRUE)
  graphics::plot(steps$step, steps$loss, type = "l", col = "grey70", xlab = "step", ylab = "loss",
                 main = "Loss", ylim = ylim, ...)
  running <- stats::ave(steps$loss, steps$epoch, FUN = function(v) cumsum(v) / seq_along(v))
  graphics::lines(steps$step, running, col = "black", lwd = 2)
  graphics::abline(v = history$step, lty = 3, col = "grey50")
  legend_text <- c("step loss", "epoch running mean")
  legend_col <- c("grey70", "black")
  legend_pch <- c(NA, NA)
  legend_lty <- c(1, 1)
  if ("val_loss" %in% names(history)) {
    graphics::points(history$step, history$val_loss, pch = 19, col = "firebrick")
    graphics::lines(history$step, history$val_loss, col = "firebrick")
    legend_text <- c(legend_text, "validation loss")
    legend_col <- c(legend_col, "firebrick")
    legend_pch <- c(legend_pch, 19)
    legend_lty <- c(legend_lty, 1)
  }
  graphics::legend("topright", legend = legend_text, col = legend_col, pch = legend_pch, lty = legend_lty,
                   bty = "n", cex = 0.8)
  monitor <- x$monitor # the metric that judged the epochs (NULL without validation rows), chosen by the core
  if (!is.null(monitor)) {
    values <- history[[monitor]]
    graphics::plot(history$epoch, values, type = "b", pch = 19, col = "steelblue", xlab = "epoch",
                   ylab = monitor, main = paste("Validation", metric_label(monitor)), xaxt = "n")
    graphics::axis(1, at = history$epoch)
    kept <- x$kept_epoch
    graphics::points(history$epoch[kept], values[kept], cex = 2.2, col = "black")
  } else {
    graphics::plot(steps$step, steps$learning_rate, type = "l", xlab = "step", ylab = "learning rate",
                   main = "Learning rate")
  }
  invisible(x)
}

metric_label <- function(name) {
  name <- sub("^val_", "", name)
  labels <- c(auc = "AUC", rmse = "RMSE", mae = "MAE", mse = "MSE", r2 = "R\u00b2", macro_f1 = "macro F1",
              ece = "ECE")
  if (name %in% names(labels)) labels[[name]] else name
}
