# Runs the testthat suite against the installed bertr and prints "testthat: N passed, N failed, N skipped".
library(testthat)
Sys.setenv(NOT_CRAN = "true") # as devtools::test() does: run the tests CRAN would skip (e.g. the full install)
results <- as.data.frame(test_dir("tests/testthat", package = "bertr", load_package = "installed",
                                  reporter = ProgressReporter$new(show_praise = FALSE), stop_on_failure = FALSE))
passed <- sum(results$passed)
failed <- sum(results$failed) + sum(results$error)
skipped <- sum(results$skipped)
cat(sprintf("testthat: %d passed, %d failed, %d skipped\n", passed, failed, skipped))
quit(status = if (failed > 0 || passed == 0) 1 else 0)
