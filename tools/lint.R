# R's half of `make lint`: lintr with the project's linters (read from .lintr, the one place they are set:
# lintr's defaults with lines of up to 120 characters) on the package code, the tests, the scripts and the
# benchmark. In the tests, object_usage_linter is off: it cannot see testthat's functions and the helpers in
# helper-bertr.R, which testthat loads first. Prints every lint and exits with status 1 when there is any.
linters <- eval(parse(text = read.dcf(".lintr", fields = "linters")[1, 1]), asNamespace("lintr"))
lints <- c(
  lintr::lint_dir("R", linters = linters),
  lintr::lint_dir("tests", linters = modifyList(linters, list(object_usage_linter = NULL)),
                  exclusions = list("tests/testthat/_snaps")),
  lintr::lint_dir("inst/scripts", linters = linters),
  lintr::lint_dir("bench", linters = linters, exclusions = list("bench/experiments")),
  lintr::lint_dir("tools", linters = linters)
)
if (length(lints)) print(lints)
cat(sprintf("lintr: %d lint(s)\n", length(lints)))
quit(status = if (length(lints)) 1 else 0)
