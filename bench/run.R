# bertr's speed benchmark (issue 5): `make bench`, or `Rscript bench/run.R [result.json]`.
# Runs each part in its own R process, one after the other (about 20 min on a 2-core machine; run it on an
# otherwise idle machine), prints the combined figures as JSON and writes them to bench/result.json.
# Parts: peak (TensorFlow's float32 matmul peak), tokenize (a), recipe and bertr (b, c, d, e).
args <- commandArgs(trailingOnly = TRUE)
bench_dir <- local({
  file_arg <- grep("^--file=", commandArgs(FALSE), value = TRUE)
  normalizePath(dirname(sub("^--file=", "", file_arg[[1]])))
})
result_path <- if (length(args)) args[[1]] else file.path(bench_dir, "result.json")
source(file.path(bench_dir, "common.R"))

run_part <- function(name) {
  out <- tempfile(paste0("bench-", name, "-"), fileext = ".json")
  message(sprintf("[%s] bench: %s ...", format(Sys.time(), "%H:%M:%S"), name))
  status <- system2(file.path(R.home("bin"), "Rscript"),
                    c(shQuote(file.path(bench_dir, paste0("part_", name, ".R"))), shQuote(bench_dir), shQuote(out)))
  if (status != 0 || !file.exists(out)) stop(sprintf("bench part '%s' failed (exit status %s)", name, status))
  jsonlite::read_json(out, simplifyVector = TRUE)
}

started <- Sys.time()
parts <- list()
for (name in c("peak", "tokenize", "recipe", "bertr")) parts[[name]] <- run_part(name)
peak <- parts$peak$peak_gflops
gflops <- function(flops, s) flops / s / 1e9

recipe <- parts$recipe
ours <- parts$bertr
recipe$useful_gflops <- gflops(recipe$useful_flops, recipe$train_s)
recipe$processed_gflops <- gflops(recipe$processed_flops, recipe$train_s)
ours$useful_gflops <- gflops(ours$useful_flops, ours$train_s)
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
  recipe_padding_share_of_tokens_run = 1 - recipe$real_tokens / recipe$processed_tokens
)
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
  peak_rss = target(ours$peak_rss_gb, "<= 3 GB while fine-tuning at batch 32", ours$peak_rss_gb <= 3)
)
result <- list(
  benchmark = "bertr bench (issue 5)", date = format(started, "%Y-%m-%d %H:%M:%S %Z"),
  minutes = round(as.numeric(difftime(Sys.time(), started, units = "mins")), 1),
  settings = c(bench_settings, model = "embedded all-MiniLM-L6-v2 (6 layers, hidden 384)",
               data = "modeldata::small_fine_foods: 4,000 training reviews, 1,000 test reviews",
               flops = paste("useful training FLOPs = 3 x layers x sum over rows of",
                             "(l (8 H^2 + 4 H I) + 4 l^2 H), l = the row's real tokens")),
  machine = parts$peak, tokenize = parts$tokenize, recipe = recipe, bertr = ours,
  hugging_face_torch = list(skipped = paste("part (f) is optional and not implemented: torch and transformers are",
                                            "not installed here")),
  ratios = ratios, targets = targets
)
json <- jsonlite::toJSON(result, auto_unbox = TRUE, digits = NA, pretty = TRUE)
writeLines(json, result_path)
writeLines(json)
