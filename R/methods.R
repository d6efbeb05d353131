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
    last <- as.list(x$history[nrow(x$history), , drop = FALSE])
    cat("  last epoch: ", format_metrics(last), "\n")
  }
  cat(sprintf("  time:        %s\n", format_seconds(x$fit_seconds)))
  invisible(x)
}
