# Parts (b) and (c) for bertr: bert_train() and predict() with the benchmark's settings (length-bucketed
# batches padded to a multiple of 8, fed as arrays to one traced graph for all lengths; prediction packs
# a full batch of tokens per batch). bertr's defaults otherwise, so the embedded model gets its mean pooling.
# BERTR_BENCH_PRECISION: the training precision (float32, or mixed_bfloat16). With float32, also predict() with
# precision = "int8" (issue 17; the model's conversion timed apart), and the fitted model saved to
# BERTR_BENCH_MODEL when set (for part_scale.R).
args <- commandArgs(trailingOnly = TRUE)
source(file.path(args[[1]], "common.R"))
out <- args[[2]]

data <- bench_data()
s <- bench_settings
precision <- Sys.getenv("BERTR_BENCH_PRECISION", "float32")
fit <- bert_train(data$train, "review", "score", seq_len = s$seq_len, batch_size = s$batch_size,
                  epochs = s$epochs, learning_rate = s$learning_rate, validation_split = 0, seed = s$seed,
                  precision = precision, verbose = FALSE)
train_s <- sum(fit$history$seconds)  # the epochs themselves: no tokenization or model loading
rss_after_training <- peak_rss_gb() # before any prediction (write_part's peak_rss_gb covers the whole part)
predict_once <- function() predict(fit, data$test, type = "prob")
prob <- predict_once()
predict_t <- timed(predict_once, reps = 3)
positive <- data$test$score == levels(data$test$score)[2] # prob is P(second level)
int8 <- list()
if (precision == "float32") {
  int8$convert_s <- seconds(predict(fit, data$test$review[1:2], precision = "int8")) # converted once per model
  int8_once <- function() predict(fit, data$test, type = "prob", precision = "int8")
  prob8 <- int8_once()
  int8_t <- timed(int8_once, reps = 3)
  int8 <- c(int8, list(predict_s = int8_t$median_s, predict_runs_s = int8_t$runs_s,
                       predict_examples_per_s = nrow(data$test) / int8_t$median_s,
                       test_auc = roc_auc(prob8, positive), max_abs_prob_difference = max(abs(prob8 - prob)),
                       conversion_child_peak_rss_gb = peak_rss_gb(-1L)))
  if (nzchar(Sys.getenv("BERTR_BENCH_MODEL"))) bert_save(fit, Sys.getenv("BERTR_BENCH_MODEL"))
}

# tokens: real ones, and the ones the length-bucketed batches actually ran (rows padded to their batch)
core <- bench_core()
training <- reticulate::import("bertr.training")
inference <- reticulate::import("bertr.inference")
token <- bert_tokenize(data$train$review, seq_len = s$seq_len, verbose = FALSE)$token
real_lengths <- rowSums(token > 0)
lengths_np <- reticulate::np_array(as.integer(real_lengths))
padded_width <- inference[["_padded_width"]]  # the width training pads each batch to
processed <- 0
for (epoch in seq_len(s$epochs) - 1L) {
  for (rows in training$epoch_batches(lengths_np, s$batch_size, s$seed, epoch)) {
    processed <- processed + length(rows) * padded_width(lengths_np, reticulate::np_array(as.integer(rows)), s$seq_len)
  }
}
config <- core$load_pretrained()$config
write_part(list(
  train_rows = nrow(token), test_rows = nrow(data$test), pooling = fit$py$pooling_, precision = precision,
  train_s = train_s, fit_s = fit$fit_seconds, train_examples_per_s = s$epochs * nrow(token) / train_s,
  predict_s = predict_t$median_s, predict_runs_s = predict_t$runs_s,
  predict_examples_per_s = nrow(data$test) / predict_t$median_s,
  test_auc = roc_auc(prob, positive), int8 = if (length(int8)) int8,
  peak_rss_gb_after_training = round(rss_after_training, 3),
  real_tokens = s$epochs * sum(real_lengths), processed_tokens = processed,
  useful_flops = s$epochs * training_flops(real_lengths, config)
), out)
