# The user's data on its way to the core: data frames, columns, texts, labels and row weights, checked with errors
# that name the column and rows, in R users' terms.

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

# Optional second texts as a list for the core: NULL, or one valid text per first text (`of` names those).
pair_texts <- function(text_pair, n, of) {
  if (is.null(text_pair)) return(NULL)
  text_pair <- as_texts(text_pair, "`text_pair`")
  if (length(text_pair) != n) abort("`text_pair` must have one text per element of ", of, ".")
  as.list(text_pair)
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

# What bert_train() was given, normalised: a data frame, the text / pair / label column names.
# `data` may be a data frame, a CSV path, or a formula (then the data frame arrives as `text`, or as
# `data =` with the formula positional).
training_spec <- function(data, text, label, text_pair, nrows) {
  if (inherits(data, "formula") || inherits(text, "formula")) {
    formula <- if (inherits(data, "formula")) data else text
    frame <- if (inherits(data, "formula")) text else data
    if (is.null(frame)) abort("With a formula, give the data too: bert_train(label ~ text, data = df).")
    parts <- formula_columns(formula)
    return(training_spec(frame, parts$text, parts$label, parts$text_pair, nrows))
  }
  if (is.character(data) && length(data) == 1 && !is.na(data)) data <- read_csv(data, nrows)
  data <- check_data(data)
  if (is.null(text)) abort("`text` is missing: name the text column.")
  if (is.null(label)) abort("`label` is missing: name the label column(s).")
  check_column_name(data, text, "text")
  if (!is.character(label) || length(label) < 1 || anyNA(label)) abort("`label` must be column name(s).")
  for (column in label) check_column_name(data, column, "label")
  if (!is.null(text_pair)) check_column_name(data, text_pair, "text_pair")
  list(data = data, text = text, label = label, text_pair = text_pair)
}

formula_columns <- function(formula) {
  if (length(formula) != 3) abort("The formula needs a label on the left: label ~ text.")
  lhs <- all.vars(formula[[2]])
  rhs <- all.vars(formula[[3]])
  if (!length(lhs)) abort("The formula has no label column on its left side.")
  if (!length(rhs) || length(rhs) > 2) {
    abort("The formula's right side must name the text column, or two for sentence pairs (text + pair).")
  }
  list(label = lhs, text = rhs[1], text_pair = if (length(rhs) == 2) rhs[2] else NULL)
}

read_csv <- function(path, nrows) {
  if (!file.exists(path)) abort("The CSV file '", path, "' does not exist.")
  if (dir.exists(path)) abort("'", path, "' is a directory, not a CSV file.")
  args <- list(path, encoding = "UTF-8", showProgress = FALSE)
  if (!is.null(nrows)) args$nrows <- as_whole_number(nrows, "nrows")
  data <- tryCatch(do.call(data.table::fread, args), error = function(e) {
    abort("Cannot read the CSV file '", path, "': ", conditionMessage(e))
  })
  if (!nrow(data)) abort("The CSV file '", path, "' has no rows.")
  data
}

# Rows with NA in any of `columns`: an error naming them ("fail"), or dropped with a warning ("drop").
handle_missing <- function(data, columns, na_action) {
  missing <- rep(FALSE, nrow(data))
  for (column in columns) {
    values <- data[[column]]
    missing <- missing | is.na(values)
    if (is.character(values) || is.factor(values)) missing <- missing | is_blank(as.character(values))
  }
  if (!any(missing) || na_action == "fail") return(data)
  rows <- which(missing)
  warning(bertr_warning(sprintf("Dropped %d row(s) with a missing or empty text or label: %s.",
                                length(rows), format_rows(rows))))
  data <- data[!missing, , drop = FALSE]
  if (!nrow(data)) abort("No rows are left after dropping those with missing values.")
  data
}

# Labels as the core wants them: values (a list, or a 0/1 matrix for several columns), class order, names.
label_input <- function(data, label) {
  if (length(label) > 1) {
    columns <- lapply(label, function(column) {
      x <- data[[column]]
      if (is.logical(x)) x <- as.integer(x)
      if (!is.numeric(x)) abort("Label column '", column, "' must be logical or 0/1 for a multi-label task.")
      x
    })
    values <- do.call(cbind, columns)
    storage.mode(values) <- "double"
    return(list(values = values, classes = NULL, names = as.list(label), type = "multilabel"))
  }
  x <- data[[label]]
  type <- class(x)[1]
  missing <- which(is.na(x))
  if (length(missing)) abort("Column '", label, "' (the label) is missing (NA) in row(s) ", format_rows(missing), ".")
  if (is.factor(x)) {
    return(list(values = as.list(as.character(x)), classes = as.list(levels(droplevels(x))), names = NULL,
                type = "factor"))
  }
  if (is.logical(x)) {
    return(list(values = as.list(as.character(x)), classes = list("FALSE", "TRUE"), names = NULL,
                type = "logical"))
  }
  if (is.numeric(x)) {
    infinite <- which(!is_float32(x))
    if (length(infinite)) {
      abort("Column '", label, "' (the label) must hold finite numbers", float32_note(x[infinite]), ", but row(s) ",
            format_rows(infinite), " hold ", format(x[infinite[1]]), ".")
    }
    return(list(values = as.list(as.numeric(x)), classes = NULL, names = NULL, type = "numeric"))
  }
  if (is.character(x)) {
    x <- enc2utf8(x)
    return(list(values = as.list(x), classes = NULL, names = NULL, type = "character"))
  }
  abort("Column '", label, "' (the label) has unsupported type ", type, ".")
}

# Training computes in float32: finite doubles beyond its range become Inf there, so they count as non-finite.
float32_max <- 3.4028234663852886e38
is_float32 <- function(x) is.finite(x) & abs(x) <= float32_max
float32_note <- function(bad) if (any(is.finite(bad))) " (at most 3.4e+38 in size: training uses float32)" else ""

# Per-row weights from the column `column`: finite numbers >= 0, as a list for the core.
weight_column <- function(data, column) {
  check_column_name(data, column, "sample_weight")
  x <- data[[column]]
  what <- paste0("Column '", column, "' (the sample_weight)")
  if (!is.numeric(x)) abort(what, " must be numeric, not ", class(x)[1], ".")
  missing <- which(is.na(x) & !is.nan(x))
  if (length(missing)) abort(what, " is missing (NA) in row(s) ", format_rows(missing), ".")
  bad <- which(!is_float32(x) | x < 0)
  if (length(bad)) {
    abort(what, " must hold finite numbers >= 0", float32_note(x[bad]), ", but row(s) ", format_rows(bad), " hold ",
          format(x[bad[1]]), ".")
  }
  as.list(as.numeric(x))
}
