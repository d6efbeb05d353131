#!/usr/bin/env bash
# make lint: ruff on the Python core and its tests (lint rules and format, from pyproject.toml), then lintr on the R
# code, tests, scripts and benchmark (tools/lint.R, linters from .lintr). Exits non-zero on any finding.
# make format (--format): ruff format and ruff's safe fixes instead of the checks (R code is only checked).
set -uo pipefail
cd "$(dirname "$0")/.."
PY="${BERTR_PYTHON_ENV:-${WORKON_HOME:-$HOME/.virtualenvs}/r-bertr}/bin/python"
[ -x "$PY" ] || { echo "lint: no Python environment at $PY; run make setup first"; exit 1; }
if ! "$PY" -m ruff --version >/dev/null 2>&1; then  # ruff is pinned in the test requirements
  "$PY" -m pip install --disable-pip-version-check --quiet -r inst/python/requirements-test.txt 2>&1 |
    grep -v "is ignored: it is neither a file nor a directory" || true
fi
if [ "${1:-}" = "--format" ]; then
  "$PY" -m ruff check --fix inst/python && "$PY" -m ruff format inst/python
  exit $?
fi
failed=0
echo "== ruff check (lint rules)"
"$PY" -m ruff check inst/python || failed=1
echo "== ruff format --check (make format rewrites)"
"$PY" -m ruff format --check inst/python || failed=1
echo "== lintr"
Rscript tools/lint.R || failed=1
echo "lint: $([ $failed = 0 ] && echo clean || echo FAILED)"
exit $failed
