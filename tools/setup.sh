#!/usr/bin/env bash
# Sets up everything bertr needs on a fresh Debian machine, idempotently (a second run takes seconds), and says
# what each step does and how long it took:
#   1. R and the R packages from Debian's packages (CRAN is not used; roxygen2, lintr and pkgdown are for make
#      document / lint / site), and python3-venv when the Python 3 on the PATH cannot make virtual environments;
#   2. the R package itself (R CMD INSTALL .) into R's site library;
#   3. the Python environment through bertr::install_bertr(): a virtualenv at $BERTR_PYTHON_ENV (default
#      ~/.virtualenvs/r-bertr) made with $BERTR_PYTHON (default: python3 on the PATH), the pinned packages of
#      inst/python/requirements.txt (reused while that file is unchanged), and the embedded model (checked by
#      sha256 every time).
set -euo pipefail
cd "$(dirname "$0")/.."

setup_started=$SECONDS
step_started=$SECONDS
step() { echo "setup: $*"; step_started=$SECONDS; }
done_step() { echo "setup:   done in $((SECONDS - step_started)) s"; }

DEBIAN_PACKAGES=(r-base-core r-cran-reticulate r-cran-data.table r-cran-zeallot r-cran-testthat
  r-cran-knitr r-cran-rmarkdown r-cran-jsonlite r-cran-cli r-cran-modeldata r-cran-tibble
  r-cran-recipes r-cran-rsample r-cran-plumber r-cran-httpuv r-cran-openssl r-cran-processx r-cran-curl
  r-cran-roxygen2 r-cran-lintr r-cran-pkgdown pandoc python3-venv)
PYTHON="${BERTR_PYTHON:-python3}"

missing=()
for pkg in "${DEBIAN_PACKAGES[@]}"; do
  if [ "$pkg" = python3-venv ]; then
    # a Python that can already make venvs (e.g. pyenv's) needs no Debian package
    "$PYTHON" -c 'import venv, ensurepip' 2>/dev/null && continue
  fi
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  step "installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  done_step
else
  echo "setup: Debian packages (R $(Rscript -e 'cat(format(getRversion()))'), pandoc, ...) already installed"
fi

step "installing the R package bertr into R's site library"
log=$(mktemp)
R CMD INSTALL --no-multiarch . >"$log" 2>&1 || { cat "$log"; rm -f "$log"; exit 1; }
rm -f "$log"
done_step

step "Python environment (bertr::install_bertr())"
Rscript -e 'bertr::install_bertr()'
done_step
echo "setup: ready in $((SECONDS - setup_started)) s"
