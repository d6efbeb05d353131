# How numbers, rows, times and metrics read in messages and printed summaries.

format_rows <- function(rows, limit = 5) {
  shown <- paste(utils::head(rows, limit), collapse = ", ")
  if (length(rows) > limit) paste0(shown, " and ", length(rows) - limit, " more") else shown
}

format_seconds <- function(seconds) {
  seconds <- round(seconds)
  if (seconds < 60) return(paste0(seconds, "s"))
  if (seconds < 3600) return(sprintf("%dm%02ds", seconds %/% 60, seconds %% 60))
  sprintf("%dh%02dm", seconds %/% 3600, (seconds %% 3600) %/% 60)
}

format_metrics <- function(values) {
  keys <- intersect(c("loss", "val_loss", "val_auc", "val_accuracy", "val_macro_f1", "val_rmse", "val_r2",
                      "auc", "accuracy"), names(values))
  paste(sprintf("%s %.4f", keys, unlist(values[keys])), collapse = ", ")
}

format_count <- function(n) format(round(as.numeric(n)), big.mark = ",", scientific = FALSE, trim = TRUE)

`%||%` <- function(x, y) if (is.null(x)) y else x
