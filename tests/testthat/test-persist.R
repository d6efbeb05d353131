# bert_save() / bert_load(): identical predictions here and in a fresh R process; clear errors on damage.

run_rscript <- function(code) {
  script <- tempfile(fileext = ".R")
  writeLines(code, script)
  out <- suppressWarnings(system2(file.path(R.home("bin"), "Rscript"), script, stdout = TRUE, stderr = TRUE))
  list(status = attr(out, "status") %||% 0L, output = out)
}
`%||%` <- function(x, y) if (is.null(x)) y else x

test_that("a saved model predicts bit-identically after bert_load, also in a fresh R process", {
  df <- toy_reviews(2)
  df$topic <- factor(rep(c("drink", "food", "other", "food"), length.out = nrow(df)))
  fit <- bert_train(df, "review", "topic", pretrained = tiny_bert(), seq_len = 16L, epochs = 2L,
                    batch_size = 8L, validation_split = 0.25, verbose = FALSE)
  path <- file.path(tempfile("saved-"), "topic model")
  expect_equal(bert_save(fit, path), normalizePath(path))
  expect_setequal(list.files(path), c("config.json", "manifest.json", "vocab.txt", "weights.safetensors"))

  loaded <- bert_load(path)
  expect_s3_class(loaded, "bert_classifier")
  expect_identical(predict(loaded, df), predict(fit, df))
  expect_identical(predict(loaded, df, type = "class"), predict(fit, df, type = "class"))
  expect_equal(loaded$levels, fit$levels)
  expect_equal(loaded$history, fit$history)
  expect_equal(loaded$steps, fit$steps)
  expect_equal(loaded$text, "review")
  expect_equal(loaded$settings, fit$settings)
  expect_output(print(loaded), "multi-class classifier of 'topic' from text 'review'")

  rds <- tempfile(fileext = ".rds")
  saveRDS(fit, rds)
  ours <- tempfile(fileext = ".rds")
  saveRDS(predict(fit, df), ours)
  theirs <- tempfile(fileext = ".rds")
  data_file <- tempfile(fileext = ".rds")
  saveRDS(df, data_file)
  result <- run_rscript(c(
    "library(bertr)",
    sprintf("df <- readRDS('%s')", data_file),
    sprintf("fit <- bert_load('%s')", path),
    sprintf("saveRDS(predict(fit, df), '%s')", theirs),
    sprintf("old <- readRDS('%s')", rds),
    "msg <- tryCatch(predict(old, df), bertr_error = function(e) conditionMessage(e))",
    "cat('SAVERDS:', msg, '\\n')"
  ))
  expect_equal(result$status, 0L, info = paste(result$output, collapse = "\n"))
  expect_identical(readRDS(theirs), readRDS(ours))
  expect_true(any(grepl("SAVERDS: .*saved with saveRDS\\(\\).*bert_save\\(\\) and bert_load\\(\\)", result$output)))
})

test_that("damaged or foreign directories give clear errors and nothing is overwritten by accident", {
  fit <- bert_train(toy_reviews(1), "review", "score", pretrained = tiny_bert(), seq_len = 16L, epochs = 1L,
                    batch_size = 8L, validation_split = 0, verbose = FALSE)
  path <- tempfile("saved-")
  bert_save(fit, path)
  expect_bertr_error(bert_save(fit, path), "already exists.*overwrite = TRUE")
  bert_save(fit, path, overwrite = TRUE)
  expect_bertr_error(bert_load(tempfile("nothing-")), "does not exist")
  expect_bertr_error(bert_load(tiny_bert()), "manifest.json is missing")
  expect_bertr_error(bert_save(list(), path), "must be a bert_classifier")

  config <- file.path(path, "config.json")
  lines <- readLines(config)
  writeLines(sub('"hidden_size": [0-9]+', '"hidden_size": 32', lines), config)
  expect_bertr_error(bert_load(path), "config.json .*modified")

  bert_save(fit, path, overwrite = TRUE)
  weights <- file.path(path, "weights.safetensors")
  bytes <- readBin(weights, "raw", file.size(weights))
  writeBin(bytes[seq_len(length(bytes) %/% 2)], weights)
  expect_bertr_error(bert_load(path),
                     "weights.safetensors has [0-9]+ bytes but [0-9]+ were saved; the file was truncated")
})

test_that("pooling = 'mean' trains, is shown, and survives bert_save / bert_load; a bad pooling is refused", {
  df <- toy_reviews(2)
  fit <- bert_train(df, "review", "score", pretrained = tiny_bert(), seq_len = 16L, epochs = 1L,
                    batch_size = 8L, validation_split = 0, pooling = "mean", verbose = FALSE)
  expect_equal(fit$py$pooling_, "mean")
  expect_output(print(summary(fit)), 'pooling = "mean"')
  loaded <- bert_load(bert_save(fit, file.path(tempfile("mean-"), "m")))
  expect_identical(predict(loaded, df), predict(fit, df))
  expect_output(print(summary(loaded)), 'pooling = "mean"')
  expect_error(bert_train(df, "review", "score", pretrained = tiny_bert(), pooling = "max", verbose = FALSE),
               "pooling must be 'cls' or 'mean'", class = "bertr_error")
  expect_error(bert_train(df, "review", "score", pretrained = tiny_bert(), pooling = 1, verbose = FALSE),
               "`pooling` must be", class = "bertr_error")
})
