# Parts (b) and (c) for bertr: bert_train() and predict() with the benchmark's settings (length-bucketed
# batches padded to a multiple of 8, fed as arrays to one traced graph for all lengths; prediction packs
# a full batch of tokens per batch). bertr's defaults otherwise, so the embedded model gets its mean pooling.
args <- commandArgs(trailingOnly = TRUE)
source(file.path(args[[1]], "common.R"))
out <- args[[2]]

data <- bench_data()
s <- bench_settings
fit <- bert_train(data$train, "review", "score", seq_len = s$seq_len, batch_size = s$batch_size,
                  epochs = s$epochs, learning_rate = s$learning_rate, validation_split = 0, seed = s$seed,
                  verbose = FALSE)
train_s <- sum(fit$history$seconds)  # the epochs themselves: no tokenization or model loading
predict_once <- function() predict(fit, data$test, type = "prob")
prob <- predict_once()
predict_t <- timed(predict_once, reps = 3)

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
  train_rows = nrow(token), test_rows = nrow(data$test), pooling = fit$py$pooling_,
  train_s = train_s, fit_s = fit$fit_seconds, train_examples_per_s = s$epochs * nrow(token) / train_s,
  predict_s = predict_t$median_s, predict_runs_s = predict_t$runs_s,
  predict_examples_per_s = nrow(data$test) / predict_t$median_s,
  test_auc = roc_auc(prob, data$test$score == levels(data$test$score)[2]),  # prob is P(second level)
  real_tokens = s$epochs * sum(real_lengths), processed_tokens = processed,
  useful_flops = s$epochs * training_flops(real_lengths, config)
), out)
