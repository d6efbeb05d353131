# Python started by R as a subprocess (venv creation, pip, the core's command line) runs with the library path
# the user had before R started, not with R's own.
#
# R's start-up script (`R_HOME/etc/ldpaths`) prepends R's library directories (R_HOME/lib, the system's library
# directory, Java's) to LD_LIBRARY_PATH for every process R starts. A shared-library Python that finds its
# libpython through its RUNPATH (pyenv, python.org builds, conda) then loads the system's libpython instead of
# its own: on Debian 12 with pyenv's 3.11.7, `import ssl` fails (`undefined symbol: _PyModule_Add`) and pip
# cannot reach any package index. Python embedded in R by reticulate is not affected (it loads libpython by its
# full path); only subprocesses are.

# The variable R's start-up script sets: DYLD_FALLBACK_LIBRARY_PATH on macOS, LD_LIBRARY_PATH elsewhere.
library_path_variable <- function() {
  if (identical(Sys.info()[["sysname"]], "Darwin")) "DYLD_FALLBACK_LIBRARY_PATH" else "LD_LIBRARY_PATH"
}

# The entries R's start-up script puts in front of the library path, found by running that script in an
# otherwise empty environment (as R did at start-up, with the user's JAVA_HOME if set); `character(0)` when it
# cannot be known.
r_library_path <- function() {
  ldpaths <- file.path(R.home("etc"), "ldpaths")
  if (!file.exists(ldpaths) || !nzchar(Sys.which("env")) || !nzchar(Sys.which("sh"))) return(character(0))
  variable <- library_path_variable()
  keep <- Sys.getenv(c("JAVA_HOME", "R_JAVA_LD_LIBRARY_PATH"), unset = NA)
  keep <- keep[!is.na(keep)]
  script <- sprintf(". %s >/dev/null 2>&1; printf '%%s' \"${%s}\"", shQuote(ldpaths), variable)
  out <- tryCatch(
    suppressWarnings(system2("env", c("-i", shQuote(paste0("R_HOME=", R.home())),
                                      if (length(keep)) shQuote(paste0(names(keep), "=", keep)),
                                      "sh", "-c", shQuote(script)), stdout = TRUE, stderr = FALSE)),
    error = function(e) character(0)
  )
  if (!is.null(attr(out, "status")) || length(out) != 1 || !nzchar(out)) return(character(0))
  strsplit(out, ":", fixed = TRUE)[[1]]
}

# The library path the user had before R started: `current` without R's entries in front (removed as often as
# they occur, for an R started from R). `NULL` when nothing is left.
user_library_path <- function(current = Sys.getenv(library_path_variable()), r_entries = r_library_path()) {
  entries <- if (nzchar(current)) strsplit(current, ":", fixed = TRUE)[[1]] else character(0)
  n <- length(r_entries)
  while (n > 0 && length(entries) >= n && identical(entries[seq_len(n)], r_entries)) {
    entries <- entries[-seq_len(n)]
  }
  if (length(entries)) paste(entries, collapse = ":") else NULL
}

# Runs `command` with `args` (already quoted for the shell) as a Python subprocess would want: R's library
# path entries removed, `env` variables (a named character vector) added. Returns the output lines with
# attribute `status` (as system2(stdout = TRUE)), never failing itself.
run_python_process <- function(command, args = character(0), env = character(0)) {
  variable <- library_path_variable()
  restored <- user_library_path()
  settings <- c(if (!is.null(restored)) stats::setNames(restored, variable), env)
  prefix <- c("-u", variable, if (length(settings)) shQuote(paste0(names(settings), "=", settings)))
  out <- suppressWarnings(system2("env", c(prefix, shQuote(command), args), stdout = TRUE, stderr = TRUE))
  if (is.null(attr(out, "status"))) attr(out, "status") <- 0L
  out
}
