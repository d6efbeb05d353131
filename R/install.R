#' Install the Python side of bertr
#'
#' Creates (or updates) a Python virtual environment, by default `~/.virtualenvs/r-bertr` (reticulate's
#' default place; set the environment variable `BERTR_PYTHON_ENV` to a path to use another), installs the
#' pinned Python dependencies (TensorFlow 2.21, tf-keras, keras-bert 0.89.0, tokenizers, safetensors,
#' numpy < 2) and the embedded default model (all-MiniLM-L6-v2, installed without its dependencies).
#' An environment whose pinned requirements have not changed is reused as it is.
#'
#' When bertr is loaded, and neither `RETICULATE_PYTHON` nor `RETICULATE_PYTHON_ENV` is set nor Python
#' already started, bertr sets `RETICULATE_PYTHON_ENV` to this environment so that reticulate uses it.
#'
#' @param envname Path of the virtual environment.
#' @param python Python 3 interpreter used to create it (default: `python3` on the `PATH`).
#' @param force Reinstall even if the environment is up to date.
#' @param quiet Print less.
#' @return The environment path, invisibly.
#' @export
install_bertr <- function(envname = bertr_env_path(), python = Sys.which("python3"), force = FALSE,
                          quiet = FALSE) {
  req <- system.file("python", "requirements.txt", package = "bertr")
  req_nodeps <- system.file("python", "requirements-nodeps.txt", package = "bertr")
  stamp_file <- file.path(envname, "bertr-requirements.md5")
  stamp <- paste(unname(tools::md5sum(c(req, req_nodeps))), collapse = " ")
  env_python <- file.path(envname, "bin", "python")
  if (!force && file.exists(env_python) && file.exists(stamp_file) &&
      identical(readLines(stamp_file, warn = FALSE), stamp)) {
    if (!quiet) message("bertr: Python environment '", envname, "' is up to date.")
    return(invisible(envname))
  }
  if (!nzchar(python) || !file.exists(python)) {
    abort("No Python 3 interpreter found to create '", envname, "': install Python 3.9 or newer, ",
          "or pass `python =` the path of one.")
  }
  run <- function(cmd, args) {
    if (!quiet) message("bertr: ", cmd, " ", paste(args, collapse = " "))
    out <- suppressWarnings(system2(cmd, args, stdout = TRUE, stderr = TRUE))
    status <- attr(out, "status")
    if (!is.null(status) && status != 0) {
      abort("Setting up the Python environment failed (", basename(cmd), " exited with ", status, "):\n",
            paste(utils::tail(out, 15), collapse = "\n"))
    }
    invisible(out)
  }
  if (!file.exists(env_python)) run(python, c("-m", "venv", shQuote(envname)))
  pip <- c("-m", "pip", "install", "--disable-pip-version-check", "--quiet")
  run(env_python, c(pip, "-r", shQuote(req)))
  run(env_python, c(pip, "--no-deps", "-r", shQuote(req_nodeps)))
  writeLines(stamp, stamp_file)
  if (!quiet) message("bertr: Python environment ready at '", envname, "'.")
  invisible(envname)
}

#' Where bertr's Python environment lives
#'
#' `BERTR_PYTHON_ENV` if set, else `r-bertr` under `WORKON_HOME` (reticulate's virtualenv root,
#' by default `~/.virtualenvs`).
#' @return A path.
#' @export
bertr_env_path <- function() {
  custom <- Sys.getenv("BERTR_PYTHON_ENV")
  if (nzchar(custom)) return(path.expand(custom))
  root <- Sys.getenv("WORKON_HOME", "~/.virtualenvs")
  path.expand(file.path(root, "r-bertr"))
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
