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
  declared <- Encoding(x) != "unknown" # e.g. latin1-marked strings: convert; unmarked bytes must be UTF-8
  x[declared] <- enc2utf8(x[declared])
  invalid <- which(!validUTF8(x))
  if (length(invalid)) {
    abort(what, " holds invalid UTF-8 in row(s) ", format_rows(invalid), "; re-encode it, e.g. with ",
          "iconv(x, from = \"latin1\", to = \"UTF-8\").")
  }
  x <- unname(enc2utf8(x)) # names would make as.list() a Python dict, whose items are the names, not the texts
  blank <- which(is_blank(x))
  if (length(blank)) abort(what, " is empty or only whitespace in row(s) ", format_rows(blank), ".")
  x
}

# Empty or only (Unicode) whitespace, as the core's check (Python's str.strip()) sees it.
is_blank <- function(x) grepl("(*UCP)^\\s*$", x, perl = TRUE)

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
  keys <- intersect(c("loss", "val_loss", "val_auc", "val_accuracy", "val_macro_f1", "val_rmse", "val_r2",
                      "auc", "accuracy"), names(values))
  paste(sprintf("%s %.4f", keys, unlist(values[keys])), collapse = ", ")
}

`%||%` <- function(x, y) if (is.null(x)) y else x

# One TRUE or FALSE, or an error naming the argument.
flag <- function(value, name) {
  if (!is.logical(value) || length(value) != 1 || is.na(value)) abort("`", name, "` must be TRUE or FALSE.")
  value
}

# `pooling` for the core: NULL (the pretrained model's own) or one string, which the core checks.
pooling_arg <- function(pooling) {
  if (!is.null(pooling) && !(is.character(pooling) && length(pooling) == 1 && !is.na(pooling))) {
    abort("`pooling` must be \"cls\", \"mean\" or NULL (the pretrained model's own).")
  }
  pooling
}

# Optional second texts as a list for the core: NULL, or one valid text per first text (`of` names those).
pair_texts <- function(text_pair, n, of) {
  if (is.null(text_pair)) return(NULL)
  text_pair <- as_texts(text_pair, "`text_pair`")
  if (length(text_pair) != n) abort("`text_pair` must have one text per element of ", of, ".")
  as.list(text_pair)
}
