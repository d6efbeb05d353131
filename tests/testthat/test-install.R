# Python subprocesses started from R (venv, pip, the core's command line) run without R's library path, and
# install_bertr() builds a working environment from R, with R's LD_LIBRARY_PATH in force.

test_that("R's own library path entries are removed, the user's own kept", {
  r <- c("/usr/lib/R/lib", "/usr/lib/x86_64-linux-gnu")
  expect_equal(bertr:::user_library_path("/usr/lib/R/lib:/usr/lib/x86_64-linux-gnu:/opt/cuda/lib64", r),
               "/opt/cuda/lib64")
  expect_null(bertr:::user_library_path("/usr/lib/R/lib:/usr/lib/x86_64-linux-gnu", r))
  # R started from R puts its entries in front twice
  expect_equal(bertr:::user_library_path(paste(c(r, r, "/a", "/b"), collapse = ":"), r), "/a:/b")
  # entries that are not R's prefix stay where they are
  expect_equal(bertr:::user_library_path("/a:/usr/lib/R/lib:/usr/lib/x86_64-linux-gnu", r),
               "/a:/usr/lib/R/lib:/usr/lib/x86_64-linux-gnu")
  expect_null(bertr:::user_library_path("", r))
  expect_equal(bertr:::user_library_path("/a", character(0)), "/a") # unknown prefix: left alone
})

test_that("this R's library path prefix is read from its start-up script", {
  skip_on_os(c("windows", "mac"))
  r <- bertr:::r_library_path()
  expect_true(length(r) >= 1)
  expect_equal(r[1], file.path(R.home(), "lib"))
  current <- strsplit(Sys.getenv("LD_LIBRARY_PATH"), ":", fixed = TRUE)[[1]]
  expect_equal(current[seq_along(r)], r) # R put exactly these in front of this process's path
})

test_that("a Python subprocess started from R runs without R's library path and can import ssl", {
  skip_on_os(c("windows", "mac"))
  python <- Sys.getenv("BERTR_PYTHON", Sys.which("python3"))
  skip_if(!nzchar(python), "no python3 on the PATH")
  code <- shQuote("import os, ssl; print(os.environ.get('LD_LIBRARY_PATH', '<unset>'))")
  out <- bertr:::run_python_process(python, c("-c", code))
  expect_equal(attr(out, "status"), 0L, info = paste(out, collapse = "\n"))
  expect_false(grepl(file.path(R.home(), "lib"), out[length(out)], fixed = TRUE))
  # the variables given are passed on
  out <- bertr:::run_python_process(python, c("-c", shQuote("import os; print(os.environ['BERTR_PROBE'])")),
                                    env = c(BERTR_PROBE = "a b"))
  expect_equal(out[length(out)], "a b")
  # started as R starts processes, a shared-library Python (pyenv's, here) fails: what the helper avoids
  plain <- suppressWarnings(system2(python, c("-c", shQuote("import ssl")), stdout = TRUE, stderr = TRUE))
  if (!is.null(attr(plain, "status"))) {
    expect_match(paste(plain, collapse = "\n"), "ssl|libpython|symbol")
  }
})

test_that("install_bertr() builds a working environment from R, under R's LD_LIBRARY_PATH", {
  skip_on_cran()
  skip_on_os(c("windows", "mac"))
  skip_if(nzchar(Sys.getenv("BERTR_SKIP_INSTALL_TEST")), "BERTR_SKIP_INSTALL_TEST is set")
  expect_match(Sys.getenv("LD_LIBRARY_PATH"), file.path(R.home(), "lib"), fixed = TRUE) # R's path in force
  env <- file.path(tempfile("bertr-install-"), "r-bertr")
  on.exit(unlink(dirname(env), recursive = TRUE), add = TRUE)
  msgs <- capture_messages(result <- install_bertr(env))
  expect_equal(result, env)
  steps <- grep("done in [0-9]+ s\n?$", msgs, value = TRUE)
  expect_length(steps, 5) # venv, pinned packages, tensorflow-text, onnxruntime, embedded model: each timed
  expect_true(any(grepl("Creating the virtual environment", msgs)))
  python <- file.path(env, "bin", "python")
  probe <- paste("import ssl, numpy, tensorflow, tf_keras, keras_bert, tokenizers, safetensors, tensorflow_text,",
                 "onnxruntime, tf2onnx; print(numpy.__version__)") # the extras: export = TRUE, int8 = TRUE
  out <- bertr:::run_python_process(python, c("-c", shQuote(probe)), env = c(TF_USE_LEGACY_KERAS = "1",
                                                                              TF_CPP_MIN_LOG_LEVEL = "3"))
  expect_equal(attr(out, "status"), 0L, info = paste(out, collapse = "\n"))
  expect_true(numeric_version(out[length(out)]) < "2") # reticulate 1.28 needs numpy < 2
  out <- bertr:::run_python_process(python, c("-m", "bertr", "install-model"),
                                    env = c(PYTHONPATH = system.file("python", package = "bertr")))
  expect_match(out[length(out)], "all-MiniLM-L6-v2: ready \\(sha256 verified\\)")
  # a second run reuses it: no venv, no pip install of the requirements
  again <- capture_messages(install_bertr(env))
  expect_true(any(grepl("has the pinned packages", again)))
  expect_false(any(grepl("Creating|Installing the pinned", again)))
  fewer <- capture_messages(install_bertr(env, export = FALSE, int8 = FALSE)) # extras not asked for may stay
  expect_true(any(grepl("has the pinned packages", fewer)))
})

test_that("install_bertr() names a missing Python interpreter", {
  env <- file.path(tempfile("bertr-install-"), "r-bertr")
  expect_bertr_error(install_bertr(env, python = file.path(tempdir(), "no-such-python"), quiet = TRUE),
                     "No Python 3 interpreter found")
  expect_false(dir.exists(env))
})

test_that("install_bertr() refuses a Python older than the one bertr claims, before making anything", {
  old <- tempfile("python-3.8-")
  writeLines(c("#!/bin/sh", "echo 3.8"), old) # answers the version question like a Python 3.8 would
  Sys.chmod(old, "0755")
  env <- file.path(tempfile("bertr-install-"), "r-bertr")
  expect_bertr_error(install_bertr(env, python = old, quiet = TRUE),
                     "bertr needs Python 3.11 or newer, .* is Python 3.8")
  expect_false(dir.exists(env))
  expect_match(bertr:::check_python_version(Sys.which("python3")), "^3\\.(1[1-9]|[2-9][0-9])$") # this one is fine
})
