# Part (f), optional (issue 17): the same job done by Hugging Face transformers on PyTorch (bench/peer_torch.py),
# in its own venv (bench/peer_setup.sh; BERTR_PEER_ENV, default ~/.virtualenvs/bertr-peer), started from here as
# bertr starts Python subprocesses (without R's LD_LIBRARY_PATH). The same data (written as CSV files), the same
# pretrained weights (the embedded model's directory) and settings. BERTR_BENCH_PRECISION: fp32 or bf16.
# Without the venv, or without torch and transformers in it, the part reports that it was skipped and why.
args <- commandArgs(trailingOnly = TRUE)
source(file.path(args[[1]], "common.R"))
out <- args[[2]]

env <- Sys.getenv("BERTR_PEER_ENV", file.path(Sys.getenv("HOME"), ".virtualenvs", "bertr-peer"))
python <- file.path(env, "bin", "python")
skip_part <- function(why) {
  jsonlite::write_json(list(skipped = why), out, auto_unbox = TRUE, pretty = TRUE)
  quit(save = "no")
}
if (!file.exists(python)) {
  skip_part(paste0("no peer environment at ", env, " (torch and transformers are not bertr dependencies; ",
                   "make it with: bash bench/peer_setup.sh)"))
}
probe <- bertr:::run_python_process(python, c("-c", shQuote("import torch, transformers")))
if (attr(probe, "status") != 0) {
  skip_part(paste0("torch and transformers cannot be imported in ", env, ": ", utils::tail(probe, 1)))
}
data <- bench_data()
dir <- tempfile("bench-peer-")
dir.create(dir)
on.exit(unlink(dir, recursive = TRUE), add = TRUE)
utils::write.csv(data$train, file.path(dir, "train.csv"), row.names = FALSE)
utils::write.csv(data$test, file.path(dir, "test.csv"), row.names = FALSE)
model_dir <- bench_core()$embedded_model_dir()
result <- file.path(dir, "peer.json")
run <- bertr:::run_python_process(python, c(
  shQuote(file.path(args[[1]], "peer_torch.py")), "--train", shQuote(file.path(dir, "train.csv")),
  "--test", shQuote(file.path(dir, "test.csv")), "--model-dir", shQuote(model_dir),
  "--precision", Sys.getenv("BERTR_BENCH_PRECISION", "fp32"), "--out", shQuote(result)
), env = c(HF_HUB_OFFLINE = "1", TRANSFORMERS_OFFLINE = "1"))
if (attr(run, "status") != 0 || !file.exists(result)) {
  stop("the peer failed (exit status ", attr(run, "status"), "):\n", paste(utils::tail(run, 20), collapse = "\n"))
}
file.copy(result, out, overwrite = TRUE)
