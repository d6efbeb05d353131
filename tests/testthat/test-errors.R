test_that("a missing column is named, with the closest existing name", {
  skip_if_no_bertr()
  df <- toy_reviews(1)
  expect_bertr_error(bert_train(df, "reviews", "score"), "Column 'reviews' .* Did you mean 'review'\\?")
  expect_bertr_error(bert_train(df, "review", "scor"), "Column 'scor' \\(the label\\).*'score'")
})

test_that("bad texts and labels are refused in R terms, before training", {
  skip_if_no_bertr()
  df <- toy_reviews(1)
  bad <- df
  bad$review[c(3, 7)] <- NA
  expect_bertr_error(bert_train(bad, "review", "score"), "missing \\(NA\\) in row\\(s\\) 3, 7")
  bad <- df
  bad$review[5] <- "   "
  expect_bertr_error(bert_train(bad, "review", "score", pretrained = tiny_bert()),
                     "empty or only whitespace in row\\(s\\) 5")
  df$n <- seq_len(nrow(df))
  expect_bertr_error(bert_train(df, "n", "score"), "Column 'n' must hold text")
  df$one <- "a"
  expect_bertr_error(bert_train(df, "review", "one"), "only one class")
  df$three <- rep(c("a", "b", "c"), length.out = nrow(df))
  expect_bertr_error(bert_train(df, "review", "three"), "3 classes")
  expect_bertr_error(bert_train(list(a = 1), "review", "score"), "must be a data.frame")
})

test_that("bad settings are refused with the argument named", {
  df <- toy_reviews(1)
  dir <- tiny_bert()
  expect_bertr_error(bert_train(df, "review", "score", pretrained = dir, seq_len = 4), "seq_len must be between 8")
  expect_bertr_error(bert_train(df, "review", "score", pretrained = dir, epochs = 0), "epochs must be at least 1")
  expect_bertr_error(bert_train(df, "review", "score", pretrained = dir, epochs = 1.5), "`epochs` must be a single whole")
  expect_bertr_error(bert_train(df, "review", "score", pretrained = dir, learning_rate = -1), "learning_rate must be a positive")
  expect_bertr_error(bert_train(df, "review", "score", pretrained = dir, validation_split = 1),
                     "validation_split must be in \\[0, 1\\)")
})

test_that("a directory that is not a BERT model says which file is missing", {
  skip_if_no_bertr()
  df <- toy_reviews(1)
  dir <- tiny_bert()
  file.remove(file.path(dir, "vocab.txt"))
  expect_bertr_error(bert_train(df, "review", "score", pretrained = dir), "missing vocab.txt")
  expect_bertr_error(bert_train(df, "review", "score", pretrained = tempfile()), "does not exist")
})

test_that("a classifier read back with readRDS explains how to keep models", {
  fit <- bert_train(toy_reviews(1), "review", "score", pretrained = tiny_bert(), seq_len = 16L, epochs = 1L,
                    batch_size = 8L, validation_split = 0, verbose = FALSE)
  file <- tempfile(fileext = ".rds")
  saveRDS(fit, file)
  restored <- readRDS(file)
  expect_bertr_error(predict(restored, "great tea"), "bert_save\\(\\) and bert_load\\(\\)")
  expect_bertr_error(predict(fit, data.frame(text = "x")), "Column 'review'")
  # the session goes on working after all these errors
  expect_length(predict(fit, c("great tea", "awful coffee")), 2)
})
