# How cost grows with data (issue 17): tokenization and prediction of N texts from R by the model part_bertr.R
# fitted and saved (BERTR_BENCH_MODEL), with BERTR_BENCH_TEXTS = N and BERTR_BENCH_PRECISION = "model" or "int8".
# Each size and precision runs in its own R process, so that the peak RSS is its own. The texts are the
# benchmark's 5,000 reviews repeated to N (real texts; each repeat costs as much as a new review of its length).
args <- commandArgs(trailingOnly = TRUE)
source(file.path(args[[1]], "common.R"))
out <- args[[2]]

n <- as.integer(Sys.getenv("BERTR_BENCH_TEXTS"))
precision <- Sys.getenv("BERTR_BENCH_PRECISION", "model")
data <- bench_data()
texts <- rep_len(c(data$train$review, data$test$review), n)
fit <- bert_load(Sys.getenv("BERTR_BENCH_MODEL"))
rss_loaded <- peak_rss_gb()
tokenize_s <- seconds(bert_tokenize(texts, seq_len = bench_settings$seq_len, verbose = FALSE))
convert_s <- if (precision == "int8") seconds(predict(fit, texts[1:2], precision = precision)) else 0
predict_s <- seconds(prob <- predict(fit, texts, precision = precision, verbose = FALSE))
stopifnot(length(prob) == n, !anyNA(prob))
write_part(list(
  texts = n, precision = precision, tokenize_s = tokenize_s, tokenize_texts_per_s = n / tokenize_s,
  convert_s = convert_s, predict_s = predict_s, predict_texts_per_s = n / predict_s,
  peak_rss_gb_after_loading = round(rss_loaded, 3),
  # the int8 conversion's child process (tf2onnx; see bertr.quantization): its own peak, not this process's
  conversion_child_peak_rss_gb = if (precision == "int8") round(peak_rss_gb(-1L), 3) else NA
), out)
