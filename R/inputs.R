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
  if (!is.null(nrows)) args$nrows <- whole_number(nrows, "nrows")
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

bertr_warning <- function(message) {
  structure(class = c("bertr_warning", "warning", "condition"), list(message = message, call = NULL))
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

class_weight_arg <- function(class_weight) {
  if (is.null(class_weight)) return(NULL)
  if (is.character(class_weight) && length(class_weight) == 1) return(class_weight)
  if (is.numeric(class_weight) && !is.null(names(class_weight)) && all(nzchar(names(class_weight)))) {
    return(as.list(class_weight))
  }
  abort("`class_weight` must be \"balanced\" or a named numeric vector, one weight per class.")
}

describe_task <- function(fit) {
  task <- fit$task
  labels <- paste0("'", fit$label, "'", collapse = ", ")
  switch(task,
    binary = sprintf("Task: binary classification of %s; probabilities are for '%s' (classes: %s).",
                     labels, fit$levels[2], paste(fit$levels, collapse = ", ")),
    soft = sprintf("Task: soft binary; %s is a fraction in [0, 1], predicted as a probability; classes use >= 0.5.",
                   labels),
    multiclass = sprintf("Task: multi-class classification of %s into %d classes: %s.", labels,
                         length(fit$levels), paste(fit$levels, collapse = ", ")),
    multilabel = sprintf("Task: multi-label classification, one probability for each of %s.", labels),
    regression = sprintf("Task: regression of %s (mean squared error).", labels)
  )
}
