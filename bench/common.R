# Shared by the benchmark's parts (bench/run.R runs each part in its own R process, so that each part's peak
# RSS is its own). Not part of the package or its tests.
suppressPackageStartupMessages({
  library(bertr)
  library(zeallot)
})

# The benchmark's fixed settings (issue 5): the embedded model, seq_len 128, batch 32, one epoch on all 4,000
# training reviews (no validation rows), scored on the 1,000 test reviews. Both contenders use them.
bench_settings <- list(seq_len = 128L, batch_size = 32L, epochs = 1L, learning_rate = 5e-5, seed = 1L)

bench_data <- function() {
  env <- new.env()
  data("small_fine_foods", package = "modeldata", envir = env)
  train <- as.data.frame(env$training_data)
  test <- as.data.frame(env$testing_data)
  rows <- as.integer(Sys.getenv("BERTR_BENCH_ROWS", "0"))  # > 0: a quick check of the scripts on fewer rows
  if (rows > 0) {
    train <- train[seq_len(min(rows, nrow(train))), ]
    test <- test[seq_len(min(rows %/% 4, nrow(test))), ]
  }
  list(train = train, test = test)
}

bench_core <- function() bertr:::bertr_core()

# seconds of wall time of one evaluation of `expr`
seconds <- function(expr) {
  started <- proc.time()[["elapsed"]]
  force(expr)
  proc.time()[["elapsed"]] - started
}

# median seconds of `reps` evaluations of `expr`, and the individual timings
timed <- function(expr_fn, reps) {
  times <- vapply(seq_len(reps), function(i) seconds(expr_fn()), numeric(1))
  list(median_s = stats::median(times), runs_s = round(times, 3))
}

# ROC AUC of `score` for `positive` (TRUE/FALSE), by the rank (Mann-Whitney) formula, ties averaged
roc_auc <- function(score, positive) {
  ranks <- rank(score)
  n_pos <- sum(positive)
  n_neg <- sum(!positive)
  (sum(ranks[positive]) - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)
}

# Training FLOPs of a BERT encoder over sequences of the given token lengths: 3x the forward pass (forward +
# backward), forward per layer = l * (8 H^2 + 4 H I) (Q, K, V, output and feed-forward matmuls, 2 FLOPs per
# multiply-add) + 4 l^2 H (attention scores and weighted values). Embedding lookups, layer norms, softmax, the
# pooler and the output layer are left out (they are < 1% here).
training_flops <- function(lengths, config) {
  h <- config$hidden_size # H, I and N in the formula above
  i <- config$intermediate_size
  n <- config$num_hidden_layers
  l <- as.numeric(lengths)
  3 * n * sum(l * (8 * h^2 + 4 * h * i) + 4 * l^2 * h)
}

peak_rss_gb <- function(who = 0L) {
  # ru_maxrss is in KiB on Linux; this process holds R, Python and TensorFlow (who = -1L: the largest of its
  # finished child processes, e.g. the int8 conversion's)
  reticulate::import("resource")$getrusage(who)$ru_maxrss * 1024 / 1e9
}

write_part <- function(result, path) {
  result$peak_rss_gb <- round(peak_rss_gb(), 3)
  jsonlite::write_json(result, path, auto_unbox = TRUE, digits = NA, pretty = TRUE)
}
