#!/usr/bin/env bash
# Sets everything up, then runs all tests: the lint (make lint: ruff and lintr) and the check that man/ is generated
# from the roxygen comments (make document), pytest for the Python core, R CMD build + R CMD check (--no-manual; the
# vignettes are neither built nor checked here: they train the embedded model for 10-20 min, so they are rendered for
# real by `make vignettes`, which CI runs after this; check must give 0 errors and 0 warnings), and the testthat
# suite against the installed package. Prints how long each part took.
set -uo pipefail
cd "$(dirname "$0")/.."
# R asks timedatectl for the time zone when TZ is unset, and warns where it cannot (containers); loading recipes
# reads the time zone, so every test that loads it would warn
export TZ="${TZ:-UTC}"
started=$SECONDS
bash tools/setup.sh || exit 1

PY="$(Rscript -e 'cat(file.path(bertr::bertr_env_path(), "bin", "python"))')"
failed=0
timings=()
lap=$started
timed() { timings+=("$1 $((SECONDS - lap)) s"); lap=$SECONDS; }
timed "setup"

echo "== test requirements (inst/python/requirements-test.txt) into $("$PY" -c 'import sys; print(sys.prefix)')"
"$PY" -m pip install --disable-pip-version-check --quiet -r inst/python/requirements-test.txt 2>&1 |
  grep -v "is ignored: it is neither a file nor a directory" || true
"$PY" -m pytest --version || { echo "pytest could not be installed"; exit 1; }
timed "test requirements"

echo "== lint (make lint) and documentation (make document)"
lint_ok=1
bash tools/lint.sh || lint_ok=0
bash tools/check-document.sh || lint_ok=0
[ "$lint_ok" -eq 1 ] || failed=1
timed "lint + document"

echo "== pytest inst/python"
"$PY" -m pytest inst/python -q -p no:cacheprovider 2>&1 | tee /tmp/bertr-pytest.log
py_status=${PIPESTATUS[0]}
py_passed=$(grep -Eo '[0-9]+ passed' /tmp/bertr-pytest.log | tail -1 | grep -Eo '[0-9]+' || echo 0)
py_failed=$(grep -Eo '[0-9]+ (failed|error)' /tmp/bertr-pytest.log | awk '{s+=$1} END {print s+0}')
py_skipped=$(grep -Eo '[0-9]+ skipped' /tmp/bertr-pytest.log | tail -1 | grep -Eo '[0-9]+' || echo 0)
[ "$py_status" -eq 0 ] || failed=1
timed "pytest"

echo "== R CMD build / check"
tmp=$(mktemp -d)
R CMD build --no-build-vignettes . >"$tmp/build.log" 2>&1 && mv bertr_*.tar.gz "$tmp/" || { cat "$tmp/build.log"; failed=1; }
check_ok=0
if ls "$tmp"/bertr_*.tar.gz >/dev/null 2>&1; then
  (cd "$tmp" && _R_CHECK_FORCE_SUGGESTS_=false R CMD check --no-manual --no-tests --ignore-vignettes bertr_*.tar.gz) >"$tmp/check.log" 2>&1
  tail -5 "$tmp/check.log"
  if grep -q "^Status: OK" "$tmp/check.log" || grep -Eq "^Status: [0-9]+ NOTEs?$" "$tmp/check.log"; then
    check_ok=1
  else
    cat "$tmp/check.log"; failed=1
  fi
fi
timed "R CMD build + check"

echo "== testthat"
Rscript tools/testthat.R 2>&1 | tee /tmp/bertr-testthat.log
r_status=${PIPESTATUS[0]}
r_passed=$(grep -Eo '^testthat: [0-9]+ passed' /tmp/bertr-testthat.log | grep -Eo '[0-9]+' || echo 0)
r_skipped=$(grep -Eo '^testthat: .* [0-9]+ skipped' /tmp/bertr-testthat.log | grep -Eo '[0-9]+ skipped' | grep -Eo '[0-9]+' || echo 0)
r_failed=$(grep -Eo '^testthat: [0-9]+ passed, [0-9]+ failed' /tmp/bertr-testthat.log | grep -Eo '[0-9]+ failed' | grep -Eo '[0-9]+' || echo 1)
[ "$r_status" -eq 0 ] || failed=1
timed "testthat"

echo
echo "time: $(IFS=';'; echo "${timings[*]}" | sed 's/;/, /g'); in all $((SECONDS - started)) s"
echo "lint + document $([ $lint_ok = 1 ] && echo clean || echo FAILED); pytest ${py_passed} passed, ${py_failed} failed, ${py_skipped} skipped; testthat ${r_passed} passed, ${r_failed} failed, ${r_skipped} skipped; R CMD check $([ $check_ok = 1 ] && echo OK || echo FAILED)"
total_passed=$((py_passed + r_passed + check_ok + lint_ok))
total_failed=$((py_failed + r_failed + (1 - check_ok) + (1 - lint_ok)))
[ "$failed" -eq 0 ] || [ "$total_failed" -gt 0 ] || total_failed=1
echo "bertr: ${total_passed} passed, ${total_failed} failed"
exit $failed
