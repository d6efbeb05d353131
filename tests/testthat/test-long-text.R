test_that("windows see the decisive words of a long text past the first window; the head cut cannot", {
  df <- toy_reviews()
  fit <- bert_train(df, "review", "score", pretrained = tiny_bert(), seq_len = 16L, epochs = 8L, batch_size = 8L,
                    learning_rate = 1e-2, validation_split = 0, seed = 2L, verbose = FALSE)
  filler <- strrep("the ", 30)
  long <- paste0(filler, c("great coffee i love this tea", "awful coffee i hate this tea"))
  head <- predict(fit, long)
  expect_equal(head[1], head[2]) # the same first 14 tokens
  window <- predict(fit, long, long_text = "window")
  expect_gt(window[1], window[2])
  expect_length(predict(fit, long, type = "class", long_text = "window"), 2)
  vectors <- bert_embed(fit, long, long_text = "window", stride = 7L)
  expect_equal(dim(vectors), c(2L, 16L))
  ev <- bert_evaluate(fit, data.frame(review = long, score = factor(c("good", "bad"), c("bad", "good"))),
                      long_text = "window")
  expect_equal(ev$auc, 1)
  expect_bertr_error(predict(fit, long, long_text = "chunks"), "long_text must be one of 'truncate', 'window'")
})

test_that("truncation and training on windows are bert_train settings, kept by bert_save", {
  df <- toy_reviews()
  df$review <- paste0(ifelse(seq_len(nrow(df)) %% 2 == 0, strrep("the ", 30), ""), df$review)
  fit <- bert_train(df, "review", "score", pretrained = tiny_bert(), seq_len = 16L, epochs = 2L, batch_size = 8L,
                    learning_rate = 1e-2, validation_split = 0.2, seed = 2L, verbose = FALSE,
                    truncation = "head_tail", long_text = "window", stride = 7L)
  expect_equal(fit$settings$truncation, "head_tail")
  expect_equal(fit$settings$long_text, "window")
  expect_true("val_auc" %in% names(fit$history))
  path <- file.path(tempfile(), "windowed")
  bert_save(fit, path)
  expect_equal(predict(bert_load(path), df[1:6, ]), predict(fit, df[1:6, ]))
  expect_bertr_error(
    bert_train(df, "review", "score", pretrained = tiny_bert(), truncation = "middle", verbose = FALSE),
    "truncation must be one of 'head', 'tail', 'head_tail'"
  )
  expect_error(bert_train(df, "review", "score", pretrained = tiny_bert(), stride = "a", verbose = FALSE),
               "`stride` must be a single whole number")
})
