#!/usr/bin/env bash
# Renders every vignette for real (make vignettes): each trains the embedded model on a few hundred reviews, so
# together they take 10-20 min on 2 cores; kept out of `make test` (whose R CMD build skips them) and run by CI after
# it. Fails when the Python core is not available, since the vignettes would then render without running their code.
set -uo pipefail
cd "$(dirname "$0")/.."
export TZ="${TZ:-UTC}"
started=$SECONDS
Rscript -e 'if (!bertr::bertr_available()) { print(bertr::bertr_sitrep()); quit(status = 1) }' ||
  { echo "vignettes: bertr's Python core is not available (make setup), so the vignettes would not run their code"; exit 1; }
work=$(mktemp -d /tmp/bertr-vignettes.XXXXXX)
trap 'rm -rf "$work"' EXIT
cp -r vignettes/. "$work/"
failed=0
timings=()
for rmd in "$work"/*.Rmd; do
  name=$(basename "$rmd")
  lap=$SECONDS
  echo "== vignette $name"
  if (cd "$work" && Rscript -e "rmarkdown::render('$name', quiet = TRUE)" >"$work/$name.log" 2>&1); then
    timings+=("$name $((SECONDS - lap)) s")
  else
    cat "$work/$name.log"; failed=1
    timings+=("$name FAILED")
  fi
done
echo "vignettes: $(IFS=';'; echo "${timings[*]}" | sed 's/;/, /g'); in all $((SECONDS - started)) s"
exit $failed
