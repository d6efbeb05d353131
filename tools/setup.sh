#!/usr/bin/env bash
# Sets up everything bertr needs on a fresh Debian machine, idempotently (a second run takes seconds):
#   1. R and the R packages from Debian's packages (CRAN is not used),
#   2. the R package itself (R CMD INSTALL .),
#   3. the Python environment through bertr::install_bertr() (reused while its pinned requirements hold).
set -euo pipefail
cd "$(dirname "$0")/.."

DEBIAN_PACKAGES=(r-base-core r-cran-reticulate r-cran-data.table r-cran-zeallot r-cran-testthat
  r-cran-knitr r-cran-rmarkdown r-cran-jsonlite r-cran-cli r-cran-modeldata r-cran-tibble
  r-cran-roxygen2 pandoc python3-venv)

missing=()
for pkg in "${DEBIAN_PACKAGES[@]}"; do
  if [ "$pkg" = python3-venv ]; then
    # a Python that can already make venvs (e.g. pyenv's) needs no Debian package
    python3 -c 'import venv, ensurepip' 2>/dev/null && continue
  fi
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

echo "setup: installing the R package"
R CMD INSTALL --no-multiarch . >/tmp/bertr-r-install.log 2>&1 || { cat /tmp/bertr-r-install.log; exit 1; }

echo "setup: Python environment"
Rscript -e 'bertr::install_bertr()'
