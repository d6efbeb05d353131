# Part (d)'s denominator: TensorFlow's float32 matmul peak here (bench/matmul_peak.py), plus machine facts.
args <- commandArgs(trailingOnly = TRUE)
source(file.path(args[[1]], "common.R"))
out <- args[[2]]
core <- bench_core()
reticulate::source_python(file.path(args[[1]], "matmul_peak.py"))
result <- matmul_peak()
cpu <- grep("^model name", readLines("/proc/cpuinfo"), value = TRUE)
result$cpu <- if (length(cpu)) sub("^model name\\s*:\\s*", "", cpu[[1]]) else NA
result$cores <- length(cpu)
result$versions <- core$runtime$versions_brief()
result$r_version <- R.version.string
write_part(result, out)
