#' BERT embeddings as a recipes step
#'
#' `step_bert_embed()` creates a *specification* of a [recipes](https://recipes.tidymodels.org) step that
#' replaces a text column with one numeric column per embedding dimension (`bert_001`, `bert_002`, ...): the
#' vectors of [bert_embed()], from the embedded all-MiniLM-L6-v2, a pretrained BERT directory, or a classifier
#' fitted by [bert_train()] (its fine-tuned text summaries). Nothing is learned from the training data: `prep()`
#' only checks the column and the model and records the embedding width; `bake()` embeds the texts of
#' `new_data` (in length-sorted batches, returned in the rows' order). Needs the recipes package.
#'
#' @param recipe A recipe object. The step will be added to the sequence of operations for this recipe.
#' @param ... One selector (see [recipes::selections()]) choosing the text column; or two, the texts and their
#'   paired texts (sentence pairs: a pretrained model reads them as one input; a fitted model must have been
#'   trained on pairs). For `tidy()`: unused.
#' @param model `NULL` for the embedded all-MiniLM-L6-v2; a pretrained BERT directory (Google or Hugging Face
#'   layout; kept as its absolute path); a `bert_classifier` from [bert_train()] or [bert_load()]; or the
#'   directory of one saved by [bert_save()] (its tuned encoder; loaded once per session). A fitted classifier
#'   holds a live Python model that [saveRDS()] cannot keep: a recipe holding one works in the session that made
#'   it; after `readRDS()`, `bake()` stops with an error (give the [bert_save()] directory instead). A recipe with
#'   `NULL` or a directory can be saved with `saveRDS()` and baked in any session.
#' @param pooling,seq_len For a pretrained model (`NULL` or a directory): `"mean"` or `"cls"`, and tokens per
#'   text (longer texts are truncated); `NULL` takes [bert_embed()]'s defaults (the model's own pooling, 128
#'   tokens). A fitted model embeds with its own settings: give them as `NULL`.
#' @param normalize Scale every vector to unit length.
#' @param batch_size Texts per batch (`NULL`: [bert_embed()]'s default).
#' @param options A named list of further arguments to [bert_embed()], e.g. `list(verbose = TRUE)` for a
#'   progress bar, or `long_text`, `stride`, `window_pooling` for a fitted model.
#' @param prefix The new columns' names: `prefix` and the dimension's number, zero-padded (`bert_001`, ...).
#' @param keep_original_cols Keep the text column(s) next to the new columns.
#' @param role The role of the new columns.
#' @param trained A logical to indicate if the step has been prepped.
#' @param columns The selected column names, recorded by `prep()`.
#' @param width The embedding width (columns added), recorded by `prep()`.
#' @param skip A logical. Should the step be skipped when the recipe is baked by [recipes::bake()]?
#' @param id A character string that is unique to this step to identify it.
#' @return An updated version of `recipe` with the new step added to the sequence of existing steps.
#'
#' @details Texts must be character (factors are read as their labels: recipes' `prep()` turns character
#'   columns of the training data into factors by default); a missing (`NA`) or empty text is an error naming
#'   the column and rows, at `prep()` for the training data and at `bake()` for new data.
#'
#' # Tidying
#'
#' When you [`tidy()`][recipes::tidy.recipe] this step, a tibble with columns `terms` (the selectors, or after
#' `prep()` the selected columns), `model` (`"embedded"`, the directory, or `"bert_classifier"`), `width` (the
#' number of columns added; `NA` before `prep()`) and `id` is returned.
#'
#' @examples
#' \dontrun{
#' library(recipes)
#' data("small_fine_foods", package = "modeldata")
#' rec <- recipe(score ~ review, data = training_data) |>
#'   step_bert_embed(review) |>
#'   prep()
#' features <- bake(rec, new_data = testing_data)  # score, bert_001, ..., bert_384
#' model <- glm(score ~ ., data = bake(rec, new_data = NULL), family = binomial())
#' }
#' @export
step_bert_embed <- function(recipe, ..., model = NULL, pooling = NULL, seq_len = NULL, normalize = FALSE,
                            batch_size = NULL, options = list(), prefix = "bert_", keep_original_cols = FALSE,
                            role = "predictor", trained = FALSE, columns = NULL, width = NULL, skip = FALSE,
                            id = recipes::rand_id("bert_embed")) {
  require_package("recipes", "step_bert_embed()")
  model <- step_model(model)
  if ((inherits(model, "bert_classifier") || is_saved_model(model)) && (!is.null(pooling) || !is.null(seq_len))) {
    abort("step_bert_embed(): a fitted model embeds with its own `pooling` and `seq_len`; leave them NULL.")
  }
  if (!is.list(options) || (length(options) && (is.null(names(options)) || !all(nzchar(names(options)))))) {
    abort("step_bert_embed(): `options` must be a named list of arguments to bert_embed().")
  }
  as_string(prefix, "prefix")
  as_flag(keep_original_cols, "keep_original_cols")
  recipes::add_step(recipe, step_bert_embed_new(
    terms = rlang::enquos(...), role = role, trained = trained, model = model, pooling = pooling,
    seq_len = seq_len, normalize = normalize, batch_size = batch_size, options = options, prefix = prefix,
    keep_original_cols = keep_original_cols, columns = columns, width = width, skip = skip, id = id
  ))
}

step_bert_embed_new <- function(terms, role, trained, model, pooling, seq_len, normalize, batch_size, options,
                                prefix, keep_original_cols, columns, width, skip, id) {
  recipes::step(subclass = "bert_embed", terms = terms, role = role, trained = trained, model = model,
                pooling = pooling, seq_len = seq_len, normalize = normalize, batch_size = batch_size,
                options = options, prefix = prefix, keep_original_cols = keep_original_cols, columns = columns,
                width = width, skip = skip, id = id)
}

# NULL, a fitted classifier, or a directory (pretrained, or a bert_save() one) as its absolute path (the recipe may be
# prepped or baked elsewhere).
step_model <- function(model) {
  if (is.null(model) || inherits(model, "bert_classifier")) return(model)
  if (is.character(model) && length(model) == 1 && !is.na(model) && nzchar(model)) {
    return(normalizePath(path.expand(model), mustWork = FALSE))
  }
  abort("step_bert_embed(): `model` must be NULL (the embedded model), a pretrained BERT directory or a ",
        "bert_classifier from bert_train() or bert_load(), not ", class(model)[1], ".")
}

# The methods of recipes' generics are registered when recipes is loaded (S3method(recipes::prep, ...) in
# NAMESPACE); lintr cannot see those generics, hence the nolint on their names.

#' @exportS3Method recipes::prep
prep.step_bert_embed <- function(x, training, info = NULL, ...) { # nolint: object_name_linter.
  columns <- recipes::recipes_eval_select(x$terms, training, info)
  if (!length(columns) || length(columns) > 2) {
    abort("step_bert_embed() needs one text column (or two, texts and their pairs), but ", length(columns),
          " were selected", if (length(columns)) paste0(": ", paste(columns, collapse = ", ")), ".")
  }
  model <- step_live_model(x$model)
  paired <- if (inherits(model, "bert_classifier")) !is.null(model$text_pair) else NA
  if (!is.na(paired) && paired != (length(columns) == 2)) {
    abort("step_bert_embed(): the fitted model reads ", if (paired) "text pairs: select two columns (texts, pairs)"
          else "single texts: select one column", ", not ", length(columns), ".")
  }
  for (column in columns) step_texts(training[0, ], column)  # a clear error for a non-text column, now
  # the width, and a check of the model and its options, from embedding no texts (reads the model, runs nothing)
  width <- ncol(step_embed(x, training[0, ], columns))
  step_bert_embed_new(
    terms = x$terms, role = x$role, trained = TRUE, model = x$model, pooling = x$pooling, seq_len = x$seq_len,
    normalize = x$normalize, batch_size = x$batch_size, options = x$options, prefix = x$prefix,
    keep_original_cols = x$keep_original_cols, columns = columns, width = width, skip = x$skip, id = x$id
  )
}

#' @exportS3Method recipes::bake
bake.step_bert_embed <- function(object, new_data, ...) { # nolint: object_name_linter.
  recipes::check_new_data(object$columns, object, new_data)
  vectors <- step_embed(object, new_data, object$columns)
  vectors <- recipes::check_name(vectors, new_data, object, newname = recipes::names0(object$width, object$prefix))
  new_data[colnames(vectors)] <- as.data.frame(vectors)
  if (!isTRUE(object$keep_original_cols)) new_data <- new_data[, setdiff(names(new_data), object$columns), drop = FALSE]
  new_data
}

# The embeddings of `data`'s text column(s), by bert_embed().
step_embed <- function(step, data, columns) {
  texts <- step_texts(data, columns[1])
  pairs <- if (length(columns) == 2) step_texts(data, columns[2])
  settings <- list(normalize = step$normalize, batch_size = step$batch_size, verbose = FALSE)
  model <- step_live_model(step$model)
  if (inherits(model, "bert_classifier")) {
    if (!is_live_py(model)) {
      abort("step_bert_embed()'s model (a bert_classifier) is gone: its Python model did not survive saveRDS(). ",
            "Keep the model with bert_save(fit, path) and build the recipe again with model = path.")
    }
    newdata <- if (is.null(pairs)) texts else stats::setNames(data.frame(texts, pairs), c(model$text, model$text_pair))
    args <- c(list(model, newdata), settings)
  } else {
    args <- c(list(texts, pretrained = model, pooling = step$pooling, text_pair = pairs), settings,
              if (!is.null(step$seq_len)) list(seq_len = step$seq_len))
  }
  args[names(step$options)] <- step$options
  vectors <- do.call(bert_embed, args)
  if (nrow(vectors) != nrow(data)) stop("internal: bert_embed() gave ", nrow(vectors), " rows for ", nrow(data))
  vectors
}

# A directory saved by bert_save() (its manifest.json), as opposed to a pretrained BERT directory.
is_saved_model <- function(model) {
  is.character(model) && length(model) == 1 && file.exists(file.path(model, "manifest.json"))
}

# The model a step embeds with: a bert_save() directory is loaded by bert_load() once per session (the step keeps
# only its path, so a recipe with one survives saveRDS() and bakes in any session); others as they are.
step_live_model <- function(model) {
  if (!is_saved_model(model)) return(model)
  key <- paste(model, format(file.mtime(file.path(model, "manifest.json")), "%Y-%m-%d %H:%M:%OS6"))
  loaded <- saved_step_models[[key]] # the path and when it was written: a model saved over it is loaded anew
  if (is.null(loaded) || !is_live_py(loaded)) {
    loaded <- bert_load(model)
    assign(key, loaded, envir = saved_step_models)
  }
  loaded
}

saved_step_models <- new.env(parent = emptyenv())

# One text column as a character vector, errors naming the column and rows (factors are read as their labels).
step_texts <- function(data, column) {
  texts <- data[[column]]
  if (!is.character(texts) && !is.factor(texts)) {
    abort("step_bert_embed() embeds text: column '", column, "' must be character (or a factor), not ",
          class(texts)[1], ".")
  }
  as_texts(texts, paste0("Column '", column, "' (step_bert_embed())"))
}

#' @export
print.step_bert_embed <- function(x, width = max(20, options()$width - 30), ...) {
  title <- paste0("BERT embeddings (", step_model_name(x$model), ") of ")
  recipes::print_step(x$columns, x$terms, x$trained, title, width)
  invisible(x)
}

step_model_name <- function(model) {
  if (is.null(model)) return("embedded")
  if (inherits(model, "bert_classifier")) return("bert_classifier")
  if (is_saved_model(model)) paste("bert_classifier saved in", model) else model
}

#' @rdname step_bert_embed
#' @param x A `step_bert_embed` object.
#' @exportS3Method recipes::tidy
tidy.step_bert_embed <- function(x, ...) { # nolint: object_name_linter.
  terms <- if (isTRUE(x$trained)) unname(x$columns) else recipes::sel2char(x$terms)
  data <- data.frame(terms = terms, model = rep(step_model_name(x$model), length(terms)),
                     width = rep(if (is.null(x$width)) NA_integer_ else as.integer(x$width), length(terms)),
                     id = rep(x$id, length(terms)), stringsAsFactors = FALSE)
  tibble::as_tibble(data)
}

#' @exportS3Method recipes::required_pkgs
required_pkgs.step_bert_embed <- function(x, ...) "bertr" # nolint: object_name_linter.

# A bertr_error naming the package and what needs it, when a suggested package is not installed.
require_package <- function(package, what) {
  if (!requireNamespace(package, quietly = TRUE)) {
    abort(what, " needs the R package ", package, ", which is not installed: install it with ",
          "install.packages(\"", package, "\") (on Debian: apt-get install r-cran-", tolower(package), ").")
  }
  invisible(TRUE)
}
