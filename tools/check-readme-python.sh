#!/usr/bin/env bash
# Runs the README's "From Python" section as written: its shell block, then its Python block, in a copy of this
# checkout with a new virtual environment (made with $BERTR_PYTHON, default python3), so that nothing installed
# before can make it pass. CI runs it after the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS
work=$(mktemp -d /tmp/bertr-readme-python.XXXXXX)
trap 'rm -rf "$work"' EXIT
# the blocks between the markers: ```sh ... ``` and ```python ... ```
awk '/<!-- readme-python:begin/{on=1} /<!-- readme-python:end/{on=0} on' README.md >"$work/section.md"
awk '/^```sh$/{on=1; next} /^```$/{on=0} on==1' "$work/section.md" >"$work/commands.sh"
awk '/^```python$/{on=1; next} /^```$/{on=0} on==1' "$work/section.md" >"$work/example.py"
[ -s "$work/commands.sh" ] && [ -s "$work/example.py" ] || { echo "README: no readme-python section found"; exit 1; }
mkdir "$work/bertr"
tar --exclude=./.git --exclude=./.venv -cf - . | tar -xf - -C "$work/bertr"
cd "$work/bertr"
PYTHON="${BERTR_PYTHON:-python3}"
mkdir -p "$work/bin" && ln -s "$(command -v "$PYTHON")" "$work/bin/python3"  # the README says python3
echo "== README, From Python: shell block (python3 is $("$PYTHON" --version 2>&1))"
cat "$work/commands.sh"
status=0
PATH="$work/bin:$PATH" bash -euo pipefail -x "$work/commands.sh" >"$work/commands.log" 2>&1 || status=$?
grep -v "is ignored: it is neither a file nor a directory" "$work/commands.log" || true
[ "$status" -eq 0 ] || { echo "README shell block failed (exit $status)"; exit 1; }
echo "== README, From Python: Python block"
cat "$work/example.py"
.venv/bin/python "$work/example.py"
echo "README Python section: OK in $((SECONDS - started)) s"
