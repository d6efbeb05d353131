# The bridge to the Python core: where it is imported (lazily), whether it is ready, and how its errors come back.
#
# Every call into the core goes through call_core(), which decides by the exception's class (not its text):
# the core's BertrError (a problem the user can fix, message written for the user) becomes a `bertr_error`;
# any other Python exception is a bug, and becomes a `bertr_internal_error` that keeps the exception's type
# and traceback so it can be reported.

# The Python core (inst/python/bertr), imported lazily: nothing starts Python until the first call that needs it.
core <- NULL

.onLoad <- function(libname, pkgname) {
  # keras-bert needs TensorFlow's Keras 2 API; must be set before TensorFlow is imported.
  Sys.setenv(TF_USE_LEGACY_KERAS = "1")
  if (!nzchar(Sys.getenv("TF_CPP_MIN_LOG_LEVEL"))) Sys.setenv(TF_CPP_MIN_LOG_LEVEL = "2")
  use_bertr_env()
  # the user's own library path without the entries R put in front, for the core's Python subprocesses (the int8
  # conversion), which must not load R's libraries (see run_python_process())
  user_path <- tryCatch(user_library_path(), error = function(e) NULL)
  Sys.setenv(BERTR_USER_LIBRARY_PATH = if (is.null(user_path)) "" else user_path)
  core <<- reticulate::import_from_path(
    "bertr",
    path = system.file("python", package = pkgname, lib.loc = libname),
    delay_load = TRUE
  )
}

# Points reticulate at the bertr environment unless the user chose a Python (RETICULATE_PYTHON,
# RETICULATE_PYTHON_ENV) or Python is already running. RETICULATE_PYTHON_ENV is used rather than
# use_virtualenv() because reticulate consults it before looking for a pyproject.toml or Pipfile in the
# working directory, which would otherwise divert it (or warn) when R runs inside a Python project.
use_bertr_env <- function() {
  if (nzchar(Sys.getenv("RETICULATE_PYTHON")) || nzchar(Sys.getenv("RETICULATE_PYTHON_ENV")) ||
      reticulate::py_available(initialize = FALSE)) {
    return(invisible(FALSE))
  }
  env <- bertr_env_path()
  if (!file.exists(file.path(env, "bin", "python"))) return(invisible(FALSE))
  Sys.setenv(RETICULATE_PYTHON_ENV = env)
  invisible(TRUE)
}

core_state <- new.env(parent = emptyenv())

# The Python core, after checking that it can be imported; a bertr_error telling how to install it if not.
bertr_core <- function() {
  if (isTRUE(core_state$ready)) return(core)
  problem <- NULL
  if (!reticulate::py_available(initialize = TRUE)) {
    problem <- "no Python could be started"
  } else {
    missing <- tryCatch(core$runtime$missing_modules(), error = function(e) conditionMessage(e))
    if (length(missing)) {
      problem <- paste0("Python (", reticulate::py_config()$python, ") lacks ", paste(missing, collapse = ", "))
    }
  }
  if (!is.null(problem)) {
    abort("The Python core of bertr is not available: ", problem,
          ". Run bertr::install_bertr(), then restart R.")
  }
  core_state$ready <- TRUE
  core
}

# Evaluates `expr`, a call into the Python core, and brings its errors back as R conditions, by the exception's
# class: the core's BertrError as a `bertr_error` with the core's message; any other Exception as a
# `bertr_internal_error` with its type and traceback (an R error in one of bertr's own R callbacks, such as the
# progress reporter, reaches R through Python as a RuntimeError: a bug too); an interruption (KeyboardInterrupt,
# not an Exception) and errors raised in R before Python ran come back unchanged.
call_core <- function(expr) {
  reticulate::py_clear_last_error()
  tryCatch(expr, error = function(e) {
    if (inherits(e, c("bertr_error", "bertr_internal_error"))) stop(e)
    raised <- reticulate::py_last_error()
    exception <- if (!is.null(raised)) attr(raised, "exception", exact = TRUE)
    if (is.null(exception) || !is_instance(exception, "Exception")) stop(e)
    if (is_instance(exception, "BertrError")) abort(trimws(raised$value))
    stop(bertr_internal_error(raised))
  })
}

# Whether a Python exception is an instance of Python's `Exception` or of the core's `BertrError` (subclasses
# included): decided by class, never by message text.
is_instance <- function(exception, class) {
  isTRUE(tryCatch({
    builtins <- reticulate::import_builtins(convert = TRUE)
    builtins$isinstance(exception, if (class == "BertrError") core$BertrError else builtins[[class]])
  }, error = function(e) FALSE))
}

#' Is bertr's Python core ready to use?
#'
#' @return `TRUE` when the Python core and its libraries can be used (see [install_bertr()]), else `FALSE`;
#'   it never fails, so it suits `eval = bertr_available()` in R Markdown chunks.
#' @export
bertr_available <- function() {
  isTRUE(tryCatch({
    bertr_core()
    TRUE
  }, error = function(e) FALSE))
}

#' Report bertr's Python set-up
#'
#' Prints the Python in use and the versions of the libraries bertr needs, and checks the embedded model.
#' @return A named list of the same facts, invisibly.
#' @export
bertr_sitrep <- function() {
  bertr <- bertr_core()
  info <- call_core(bertr$runtime$versions())
  info$python <- reticulate::py_config()$python
  for (name in names(info)) cat(sprintf("%-14s %s\n", name, format(info[[name]])))
  invisible(info)
}
