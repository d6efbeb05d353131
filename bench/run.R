# bertr's speed benchmark (issues 5 and 17): `make bench`, or `Rscript bench/run.R [result.json]`.
# Runs each part in its own R process, one after the other (about 45 min on a 2-core machine; run it on an
# otherwise idle machine), prints the combined figures as JSON and writes them to bench/result.json.
# Parts: peak (TensorFlow's float32 matmul peak), tokenize (a), recipe and bertr (b, c, d, e; bertr also in
# mixed_bfloat16, and its int8 prediction), the optional Hugging Face + PyTorch peer in fp32 and bf16 (f; skipped
# with the reason when its venv from bench/peer_setup.sh is missing), and scale (tokenization and prediction time
# and peak RSS at 1k, 10k and 100k texts; 100k in int8 only).
args <- commandArgs(trailingOnly = TRUE)
bench_dir <- local({
  file_arg <- grep("^--file=", commandArgs(FALSE), value = TRUE)
  normalizePath(dirname(sub("^--file=", "", file_arg[[1]])))
})
result_path <- if (length(args)) args[[1]] else file.path(bench_dir, "result.json")
source(file.path(bench_dir, "common.R"))

run_part <- function(name, env = character(0)) {
  out <- tempfile(paste0("bench-", name, "-"), fileext = ".json")
  message(sprintf("[%s] bench: %s %s...", format(Sys.time(), "%H:%M:%S"), name, paste(env, collapse = " ")))
  status <- system2(file.path(R.home("bin"), "Rscript"),
                    c(shQuote(file.path(bench_dir, paste0("part_", name, ".R"))), shQuote(bench_dir), shQuote(out)),
                    env = if (length(env)) paste0(names(env), "=", shQuote(env)) else character(0))
  if (status != 0 || !file.exists(out)) stop(sprintf("bench part '%s' failed (exit status %s)", name, status))
  jsonlite::read_json(out, simplifyVector = TRUE)
}

started <- Sys.time()
parts <- list()
for (name in c("peak", "tokenize", "recipe")) parts[[name]] <- run_part(name)
model_dir <- file.path(tempfile("bench-model-"), "model") # part_bertr.R saves its fit here for part_scale.R
parts$bertr <- run_part("bertr", c(BERTR_BENCH_MODEL = model_dir))
parts$bertr_bf16 <- run_part("bertr", c(BERTR_BENCH_PRECISION = "mixed_bfloat16"))
parts$peer <- run_part("peer", c(BERTR_BENCH_PRECISION = "fp32"))
parts$peer_bf16 <- if (is.null(parts$peer$skipped)) run_part("peer", c(BERTR_BENCH_PRECISION = "bf16"))
sizes <- if (nzchar(Sys.getenv("BERTR_BENCH_ROWS"))) c(100, 1000) else c(1000, 10000, 100000)
scale <- list()
for (n in sizes) {
  for (precision in if (n <= 10000) c("model", "int8") else "int8") {
    scale[[length(scale) + 1]] <- run_part("scale", c(BERTR_BENCH_MODEL = model_dir,
                                                      BERTR_BENCH_TEXTS = format(n, scientific = FALSE),
                                                      BERTR_BENCH_PRECISION = precision))
  }
}
unlink(dirname(model_dir), recursive = TRUE)
peak <- parts$peak$peak_gflops
gflops <- function(flops, s) flops / s / 1e9

recipe <- parts$recipe
ours <- parts$bertr
recipe$useful_gflops <- gflops(recipe$useful_flops, recipe$train_s)
recipe$processed_gflops <- gflops(recipe$processed_flops, recipe$train_s)
ours$useful_gflops <- gflops(ours$useful_flops, ours$train_s)
bf16 <- parts$bertr_bf16
bf16$useful_gflops <- gflops(bf16$useful_flops, bf16$train_s)
peer <- parts$peer
peer_bf16 <- parts$peer_bf16
has_peer <- is.null(peer$skipped)
ratios <- list(
  tokenize_vs_r_loop = parts$tokenize$speedup,
  tokenize_r_over_python_100k = parts$tokenize$r_over_python,
  train_examples_per_s = ours$train_examples_per_s / recipe$train_examples_per_s,
  predict_examples_per_s = ours$predict_examples_per_s / recipe$predict_examples_per_s,
  test_auc_difference = ours$test_auc - recipe$test_auc,
  useful_flops_fraction_of_peak = ours$useful_gflops / peak,
  recipe_useful_flops_fraction_of_peak = recipe$useful_gflops / peak,
  recipe_all_tokens_flops_fraction_of_peak = recipe$processed_gflops / peak,
  padding_share_of_tokens_run = 1 - ours$real_tokens / ours$processed_tokens,
  recipe_padding_share_of_tokens_run = 1 - recipe$real_tokens / recipe$processed_tokens,
  int8_predict_vs_float32 = ours$int8$predict_examples_per_s / ours$predict_examples_per_s,
  int8_test_auc_difference = ours$int8$test_auc - ours$test_auc,
  bf16_train_vs_float32 = bf16$train_examples_per_s / ours$train_examples_per_s,
  bf16_test_auc_difference = bf16$test_auc - ours$test_auc,
  bf16_useful_flops_fraction_of_float32_peak = bf16$useful_gflops / peak
)
if (has_peer) {
  ratios <- c(ratios, list(
    train_vs_peer = ours$train_examples_per_s / peer$train_examples_per_s,
    train_bf16_vs_peer = bf16$train_examples_per_s / peer$train_examples_per_s,
    train_bf16_vs_peer_bf16 = bf16$train_examples_per_s / peer_bf16$train_examples_per_s,
    predict_vs_peer = ours$predict_examples_per_s / peer$predict_examples_per_s,
    predict_int8_vs_peer = ours$int8$predict_examples_per_s / peer$predict_examples_per_s,
    predict_int8_vs_peer_bf16 = ours$int8$predict_examples_per_s / peer_bf16$predict_examples_per_s,
    test_auc_minus_peer = ours$test_auc - peer$test_auc,
    test_auc_bf16_minus_peer = bf16$test_auc - peer$test_auc
  ))
}
target <- function(value, goal, met) list(value = value, target = goal, met = met)
targets <- list(
  tokenize = target(ratios$tokenize_vs_r_loop, ">= 8x the R loop", ratios$tokenize_vs_r_loop >= 8),
  tokenize_from_r = target(ratios$tokenize_r_over_python_100k, "<= 1.5x the Python core on 100k texts",
                           ratios$tokenize_r_over_python_100k <= 1.5),
  train = target(ratios$train_examples_per_s, ">= 1.5x the recipe", ratios$train_examples_per_s >= 1.5),
  predict = target(ratios$predict_examples_per_s, ">= 2x the recipe", ratios$predict_examples_per_s >= 2),
  auc = target(ratios$test_auc_difference, ">= -0.005 (bertr minus recipe)", ratios$test_auc_difference >= -0.005),
  useful_flops = target(ratios$useful_flops_fraction_of_peak, ">= 0.5 of the matmul peak",
                        ratios$useful_flops_fraction_of_peak >= 0.5),
  peak_rss = target(ours$peak_rss_gb, "<= 3 GB while fine-tuning at batch 32", ours$peak_rss_gb <= 3),
  # issue 17
  int8_predict_auc = target(ratios$int8_test_auc_difference, "int8 test AUC within 0.003 of float32",
                            abs(ratios$int8_test_auc_difference) <= 0.003),
  useful_flops_70 = target(ratios$useful_flops_fraction_of_peak, ">= 0.7 of the float32 matmul peak (float32)",
                           ratios$useful_flops_fraction_of_peak >= 0.7),
  useful_flops_70_bf16 = target(ratios$bf16_useful_flops_fraction_of_float32_peak,
                                ">= 0.7 of the float32 matmul peak (mixed_bfloat16)",
                                ratios$bf16_useful_flops_fraction_of_float32_peak >= 0.7),
  peak_rss_2_5 = target(ours$peak_rss_gb, "<= 2.5 GB while fine-tuning", ours$peak_rss_gb <= 2.5)
)
if (has_peer) {
  targets <- c(targets, list(
    train_vs_peer = target(ratios$train_vs_peer, ">= 1.2x the peer (float32 both)", ratios$train_vs_peer >= 1.2),
    train_bf16_vs_peer = target(ratios$train_bf16_vs_peer, ">= 1.2x the peer (bertr mixed_bfloat16, peer fp32)",
                                ratios$train_bf16_vs_peer >= 1.2),
    train_bf16_vs_peer_bf16 = target(ratios$train_bf16_vs_peer_bf16, ">= 1.2x the peer (bf16 both)",
                                     ratios$train_bf16_vs_peer_bf16 >= 1.2),
    train_auc_vs_peer = target(ratios$test_auc_minus_peer, ">= -0.003 (bertr minus peer)",
                               ratios$test_auc_minus_peer >= -0.003),
    predict_fp32_vs_peer = target(ratios$predict_vs_peer, ">= 1x the peer (float32)", ratios$predict_vs_peer >= 1),
    predict_int8_vs_peer = target(ratios$predict_int8_vs_peer, ">= 1.5x the peer (bertr int8, peer fp32)",
                                  ratios$predict_int8_vs_peer >= 1.5)
  ))
}
# one scale part as a data frame row; a field a part wrote as NA comes back from the JSON as NULL (the conversion
# child's RSS without int8), and as.data.frame() refuses a NULL
scale_row <- function(part) as.data.frame(lapply(part, function(value) if (is.null(value)) NA else value))
result <- list(
  benchmark = "bertr bench (issues 5 and 17)", date = format(started, "%Y-%m-%d %H:%M:%S %Z"),
  minutes = round(as.numeric(difftime(Sys.time(), started, units = "mins")), 1),
  settings = c(bench_settings, model = "embedded all-MiniLM-L6-v2 (6 layers, hidden 384)",
               data = "modeldata::small_fine_foods: 4,000 training reviews, 1,000 test reviews",
               flops = paste("useful training FLOPs = 3 x layers x sum over rows of",
                             "(l (8 H^2 + 4 H I) + 4 l^2 H), l = the row's real tokens")),
  machine = parts$peak, tokenize = parts$tokenize, recipe = recipe, bertr = ours, bertr_bf16 = bf16,
  hugging_face_torch = peer, hugging_face_torch_bf16 = peer_bf16,
  scale = do.call(rbind, lapply(scale, scale_row)),
  ratios = ratios, targets = targets
)
json <- jsonlite::toJSON(result, auto_unbox = TRUE, digits = NA, pretty = TRUE)
writeLines(json, result_path)
writeLines(json)
