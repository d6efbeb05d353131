#!/usr/bin/env bash
# Fails when man/ or NAMESPACE differ from what roxygen2 generates from R/ (fix: make document). Runs roxygen2 in a
# copy of the working tree, so the checkout itself is never changed.
set -uo pipefail
cd "$(dirname "$0")/.."
copy=$(mktemp -d /tmp/bertr-document.XXXXXX)
trap 'rm -rf "$copy"' EXIT
git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
  [ -e "$f" ] && mkdir -p "$copy/$(dirname "$f")" && cp -p "$f" "$copy/$f"
done
(cd "$copy" && Rscript -e 'roxygen2::roxygenise()' >"$copy/.roxygen.log" 2>&1) || { cat "$copy/.roxygen.log"; exit 1; }
if diff -r man "$copy/man" >"$copy/.diff" && diff NAMESPACE "$copy/NAMESPACE" >>"$copy/.diff"; then
  echo "document: man/ and NAMESPACE are up to date"
else
  cat "$copy/.diff"
  echo "document: man/ or NAMESPACE is stale: run make document and commit the result"
  exit 1
fi
