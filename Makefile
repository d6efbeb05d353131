# The README's two commands. Both set everything up first (idempotent; seconds when already done).
.PHONY: setup demo test bench

setup:
	bash tools/setup.sh

demo: setup
	Rscript inst/scripts/demo.R

test:
	bash tools/test.sh

# Not part of the tests: the speed benchmark (about 20 min; run it on an otherwise idle machine).
bench: setup
	Rscript bench/run.R
