# The README's two commands (demo, test) and the maintainer's (lint, format, document, site, bench). The first two
# set everything up first (idempotent; seconds when already done).
.PHONY: setup demo test vignettes lint format document site bench

setup:
	bash tools/setup.sh

demo: setup
	Rscript inst/scripts/demo.R

test:
	bash tools/test.sh

# every vignette rendered for real (each trains the embedded model; 10-20 min on 2 cores); CI runs it after `make test`
vignettes: setup
	bash tools/vignettes.sh

# ruff (Python lint + format check, configured in pyproject.toml) and lintr (R, configured in .lintr); part of `make test`
lint:
	bash tools/lint.sh

# rewrite the Python code in ruff's format and apply ruff's safe fixes (R has no formatter here: lintr reports)
format:
	bash tools/lint.sh --format

# regenerate man/ and NAMESPACE from the roxygen comments in R/ (`make test` fails when they are stale)
document:
	Rscript -e 'roxygen2::roxygenise()'

# the pkgdown site (README, reference, vignettes, NEWS) in site/, built offline (pkgdown.internet = FALSE: no CRAN
# lookup); the vignette trains for a few minutes
site: setup
	Rscript -e 'options(pkgdown.internet = FALSE); pkgdown::build_site(new_process = FALSE, install = FALSE)'

# Not part of the tests: the speed benchmark (about 20 min; run it on an otherwise idle machine).
bench: setup
	Rscript bench/run.R
