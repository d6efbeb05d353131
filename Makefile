# The README's two commands. Both set everything up first (idempotent; seconds when already done).
.PHONY: setup demo test

setup:
	bash tools/setup.sh

demo: setup
	Rscript inst/scripts/demo.R

test:
	bash tools/test.sh
