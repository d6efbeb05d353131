# Part (d)'s denominator: TensorFlow's float32 matmul peak here (bench/matmul_peak.py), plus machine facts.
# Measured twice, with oneDNN on (as bertr runs) and off (TensorFlow's default on CPUs without AVX-512 VNNI),
# in separate processes; the higher of the two is the peak.
args <- commandArgs(trailingOnly = TRUE)
source(file.path(args[[1]], "common.R"))
out <- args[[2]]
core <- bench_core()
reticulate::source_python(file.path(args[[1]], "matmul_peak.py"))
result <- matmul_peak()
result$onednn <- TRUE
python <- reticulate::py_config()$python
off <- suppressWarnings(system2(python, file.path(args[[1]], "matmul_peak.py"), stdout = TRUE, stderr = FALSE,
                                env = c("TF_ENABLE_ONEDNN_OPTS=0",
                                        paste0("PYTHONPATH=", system.file("python", package = "bertr")))))
off <- jsonlite::fromJSON(off[[length(off)]])
result$peak_gflops_onednn <- result$peak_gflops
result$peak_gflops_stock <- off$peak_gflops
if (off$peak_gflops > result$peak_gflops) {
  result$peak_gflops <- off$peak_gflops
  result$peak_shape <- off$peak_shape
  result$onednn <- FALSE
}
cpu <- grep("^model name", readLines("/proc/cpuinfo"), value = TRUE)
result$cpu <- if (length(cpu)) sub("^model name\\s*:\\s*", "", cpu[[1]]) else NA
result$cores <- length(cpu)
result$versions <- core$runtime$versions_brief()
result$r_version <- R.version.string
write_part(result, out)
