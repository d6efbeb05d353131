# bert_export(): a TensorFlow SavedModel that reads raw text and predicts as predict() does; bert_model_card().
# (The fresh-process load without bertr or keras-bert, and token-id parity on hard texts, are tested in pytest:
# inst/python/tests/test_export.py.)

skip_if_no_text <- function() {
  skip_if_no_bertr()
  if (!reticulate::py_module_available("tensorflow_text")) {
    skip("tensorflow-text (optional, installed by install_bertr(export = TRUE)) is not installed")
  }
}

exported_fit <- function() {
  df <- toy_reviews(2)
  fit <- bert_train(df, "review", "score", pretrained = tiny_bert(), seq_len = 16L, epochs = 1L,
                    batch_size = 8L, validation_split = 0.25, verbose = FALSE)
  list(fit = fit, df = df)
}

test_that("an exported model reads raw text and predicts as predict(), with its model card", {
  skip_if_no_text()
  c(fit, df) %<-% exported_fit()
  path <- file.path(tempfile("export-"), "review model")
  expect_equal(bert_export(fit, path), normalizePath(path))
  expect_true(all(c("saved_model.pb", "variables", "model_card.json", "manifest.json") %in% list.files(path)))

  card <- jsonlite::fromJSON(file.path(path, "model_card.json"))
  expect_equal(card$task, "binary")
  expect_equal(card$labels, c("bad", "good"))
  expect_equal(card$columns$text, "review")
  expect_equal(card$columns$label, "score")
  expect_equal(card$input$seq_len, 16)
  expect_equal(card[c("task", "labels", "input")], bert_model_card(fit)[c("task", "labels", "input")])

  tf <- reticulate::import("tensorflow")
  serve <- tf$saved_model$load(path)$signatures[["serving_default"]]
  texts <- c(df$review[1:6], "Café CRÈME, great!", "北京 tea 😀")
  out <- serve(texts = tf$constant(texts))
  prob <- out$probabilities$numpy()
  expect_equal(prob[, 2], predict(fit, texts), tolerance = 1e-5)
  expect_equal(rowSums(prob), rep(1, length(texts)), tolerance = 1e-6)
  decided <- vapply(out$prediction$numpy(), function(x) reticulate::py_to_r(x)$decode("utf-8"), "")
  expect_equal(decided, as.character(predict(fit, texts, type = "class")))
})

test_that("bert_export() keeps an existing directory and names bad arguments", {
  skip_if_no_text()
  c(fit, df) %<-% exported_fit()
  taken <- tempfile("taken-")
  dir.create(taken)
  writeLines("mine", file.path(taken, "keep.txt"))
  expect_bertr_error(bert_export(fit, taken), "already exists")
  expect_equal(readLines(file.path(taken, "keep.txt")), "mine")
  expect_error(bert_export(df, tempfile()), "must be a bert_classifier")
  expect_error(bert_model_card("model"), "must be a bert_classifier")
  expect_error(bert_export(fit, 3), "path")
})

test_that("a 0/1 label's classes read as R writes them, in the export and its card", {
  skip_if_no_text()
  df <- toy_reviews(2)
  df$liked <- as.numeric(df$score == "good")
  fit <- bert_train(df, "review", "liked", pretrained = tiny_bert(), seq_len = 16L, epochs = 1L,
                    batch_size = 8L, validation_split = 0, verbose = FALSE)
  path <- bert_export(fit, tempfile("export-"))
  expect_equal(jsonlite::fromJSON(file.path(path, "model_card.json"))$labels, c("0", "1"))
  expect_equal(unlist(bert_model_card(fit)$labels), c("0", "1"))
  tf <- reticulate::import("tensorflow")
  out <- tf$saved_model$load(path)$signatures[["serving_default"]](texts = tf$constant(df$review[1:6]))
  decided <- vapply(out$prediction$numpy(), function(x) reticulate::py_to_r(x)$decode("utf-8"), "")
  expect_equal(decided, as.character(predict(fit, df$review[1:6], type = "class")))
})
