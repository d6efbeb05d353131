#!/usr/bin/env bash
# Sets bertr up from nothing with another Python 3 (default: Debian's own /usr/bin/python3, which needs the
# python3-venv package) and runs a part of each test suite against it: the set-up (tools/setup.sh with
# BERTR_PYTHON and a new BERTR_PYTHON_ENV in a temporary directory), pytest's estimator tests, and testthat's
# training tests (test-train.R, test-embedded.R; the checkpoint tests are Python-agnostic and stay in make test)
# through reticulate embedding that Python. CI runs it after the tests.
#   bash tools/check-python.sh [/path/to/python3]
set -uo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS
export BERTR_PYTHON="${1:-/usr/bin/python3}"
[ -x "$BERTR_PYTHON" ] || { echo "check-python: no Python at $BERTR_PYTHON"; exit 1; }
work=$(mktemp -d /tmp/bertr-check-python.XXXXXX)
trap 'rm -rf "$work"' EXIT
export BERTR_PYTHON_ENV="$work/r-bertr"
echo "== check-python: $("$BERTR_PYTHON" --version 2>&1) at $BERTR_PYTHON, environment $BERTR_PYTHON_ENV"
bash tools/setup.sh || exit 1
PY="$BERTR_PYTHON_ENV/bin/python"
"$PY" -m pip install --disable-pip-version-check --quiet -r inst/python/requirements-test.txt >"$work/pip.log" 2>&1 ||
  { cat "$work/pip.log"; exit 1; }
failed=0
"$PY" -m pytest inst/python/tests/test_estimator.py -q -p no:cacheprovider || failed=1
Rscript -e '
  library(testthat)
  library(bertr) # points reticulate at BERTR_PYTHON_ENV (before anything starts Python)
  cat("reticulate uses", reticulate::py_config()$python, "\n")
  stopifnot(startsWith(reticulate::py_config()$python, Sys.getenv("BERTR_PYTHON_ENV")))
  r <- as.data.frame(test_dir("tests/testthat", filter = "^(train|embedded)$", package = "bertr",
                              load_package = "installed", stop_on_failure = FALSE))
  cat(sprintf("testthat: %d passed, %d failed, %d skipped\n", sum(r$passed), sum(r$failed) + sum(r$error),
              sum(r$skipped)))
  quit(status = if (sum(r$failed) + sum(r$error) > 0 || sum(r$skipped) > 0 || sum(r$passed) == 0) 1 else 0)
' || failed=1
echo "check-python: $([ $failed = 0 ] && echo OK || echo FAILED) with $BERTR_PYTHON in $((SECONDS - started)) s"
exit $failed
