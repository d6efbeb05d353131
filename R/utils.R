# Argument checks and conversions shared by the wrappers. Errors are `bertr_error`s naming the argument.

check_data <- function(data) {
  if (!is.data.frame(data)) {
    abort("`data` must be a data.frame, tibble or data.table, not ", class(data)[1], ".")
  }
  if (nrow(data) == 0) abort("`data` has no rows.")
  data
}

check_column_name <- function(data, column, what) {
  if (!is.character(column) || length(column) != 1 || is.na(column)) {
    abort("`", what, "` must be one column name (a string).")
  }
  if (!column %in% names(data)) {
    near <- names(data)[utils::adist(column, names(data), ignore.case = TRUE) <= max(2, nchar(column) %/% 3)]
    hint <- if (length(near)) paste0(" Did you mean '", near[1], "'?") else ""
    abort("Column '", column, "' (the ", what, ") is not in `data`.", hint,
          " Columns: ", paste(utils::head(names(data), 10), collapse = ", "),
          if (ncol(data) > 10) ", ..." else "", ".")
  }
  invisible(column)
}

# The text column as a character vector; factors become character, other types are refused.
text_column <- function(data, column, what = "text") {
  check_column_name(data, column, what)
  as_texts(data[[column]], paste0("Column '", column, "'"))
}

as_texts <- function(x, what) {
  if (is.factor(x)) x <- as.character(x)
  if (!is.character(x)) abort(what, " must hold text (character), not ", class(x)[1], ".")
  missing <- which(is.na(x))
  if (length(missing)) {
    abort(what, " is missing (NA) in row(s) ", format_rows(missing), ".")
  }
  x
}

# Binary labels as character values plus their level order (the second level is the positive class).
label_values <- function(x, column) {
  type <- class(x)[1]
  if (is.factor(x)) {
    levels <- levels(droplevels(x))
  } else if (is.logical(x)) {
    levels <- c("FALSE", "TRUE")
  } else if (is.numeric(x)) {
    values <- sort(unique(x[!is.na(x)]))
    if (!all(values %in% c(0, 1))) {
      abort("Column '", column, "' (the label) is numeric with values other than 0 and 1; ",
            "a binary label must be logical, 0/1, or a factor/character with two values.")
    }
    levels <- c("0", "1")
  } else if (is.character(x)) {
    levels <- sort(unique(x[!is.na(x)]))
  } else {
    abort("Column '", column, "' (the label) has unsupported type ", type, ".")
  }
  values <- as.character(x)
  missing <- which(is.na(values))
  if (length(missing)) abort("Column '", column, "' (the label) is missing (NA) in row(s) ", format_rows(missing), ".")
  if (length(unique(values)) < 2) {
    abort("Column '", column, "' (the label) has only one class ('", values[1], "'); a classifier needs two.")
  }
  if (length(levels) != 2) {
    abort("Column '", column, "' (the label) has ", length(levels), " classes (",
          paste(utils::head(levels, 5), collapse = ", "), if (length(levels) > 5) ", ..." else "",
          "); bert_train() fits binary labels.")
  }
  list(values = values, levels = levels, type = type)
}

whole_number <- function(x, name) {
  if (!is.numeric(x) || length(x) != 1 || is.na(x) || x != round(x)) {
    abort("`", name, "` must be a single whole number.")
  }
  as.integer(x)
}

number <- function(x, name) {
  if (!is.numeric(x) || length(x) != 1 || is.na(x)) abort("`", name, "` must be a single number.")
  as.numeric(x)
}

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
  keys <- intersect(c("loss", "val_loss", "val_auc", "val_accuracy", "auc", "accuracy"), names(values))
  paste(sprintf("%s %.4f", keys, unlist(values[keys])), collapse = ", ")
}
