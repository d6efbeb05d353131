fit_tiny <- function(data, ...) {
  bert_train(data, "review", "score", pretrained = tiny_bert(), seq_len = 16L, epochs = 8L,
             batch_size = 8L, learning_rate = 1e-2, validation_split = 0.2, seed = 2L, verbose = FALSE, ...)
}

test_that("bert_train fits a bert_classifier from a data.frame and predict returns plain R vectors", {
  df <- toy_reviews()
  fit <- fit_tiny(df)
  expect_s3_class(fit, "bert_classifier")
  expect_equal(fit$levels, c("bad", "good"))
  expect_equal(fit$n_train + fit$n_validation, nrow(df))
  expect_s3_class(fit$history, "data.frame")
  expect_equal(fit$history$epoch, 1:8)
  expect_true(all(c("loss", "val_loss", "val_auc", "val_accuracy") %in% names(fit$history)))
  expect_lt(fit$history$loss[8], fit$history$loss[1])
  expect_true(reticulate::py_has_attr(fit$model, "predict")) # the Keras model stays reachable

  new <- df[c(20:1), , drop = FALSE] # reversed order: predictions must follow it
  prob <- predict(fit, new)
  expect_type(prob, "double")
  expect_null(dim(prob))
  expect_length(prob, 20)
  expect_true(all(prob >= 0 & prob <= 1))
  truth <- new$score == "good"
  auc <- mean(outer(prob[truth], prob[!truth], ">") + 0.5 * outer(prob[truth], prob[!truth], "=="))
  expect_gt(auc, 0.9) # learnt the sentiment words; a constant predictor scores 0.5

  cls <- predict(fit, new, type = "class")
  expect_s3_class(cls, "factor")
  expect_equal(levels(cls), c("bad", "good"))
  expect_equal(cls, factor(ifelse(prob >= 0.5, "good", "bad"), levels = c("bad", "good")))
  expect_equal(predict(fit, new$review), prob) # a character vector works too

  ev <- bert_evaluate(fit, new)
  expect_equal(ev$n, 20)
  expect_equal(ev$auc, auc, tolerance = 1e-6)

  # no rows in, no rows out, of the same types (as R's own predict methods do)
  expect_identical(predict(fit, new[0, ]), numeric(0))
  expect_identical(predict(fit, character(0)), numeric(0))
  expect_identical(predict(fit, new[0, ], type = "class"), factor(character(0), levels = c("bad", "good")))
  ev0 <- bert_evaluate(fit, new[0, ])
  expect_equal(names(ev0), names(ev))
  expect_equal(ev0$n, 0)
  expect_true(all(is.nan(unlist(ev0[-1]))))
  expect_equal(dim(bert_embed(fit, new[0, ], verbose = FALSE)), c(0L, 16L))

  out <- capture.output(print(fit))
  expect_match(out[1], "binary classifier of 'score' from text 'review'")
  expect_true(any(grepl("probabilities are for 'good'", out)))
})

test_that("tibbles and data.tables work the same as data.frames", {
  df <- toy_reviews(2)
  base <- fit_tiny(df, )
  p_base <- predict(base, df)
  tb <- tibble::as_tibble(df)
  dt <- data.table::as.data.table(df)
  expect_equal(predict(fit_tiny(tb), tb), p_base, tolerance = 1e-6)
  p_dt <- predict(fit_tiny(dt), dt)
  expect_equal(p_dt, p_base, tolerance = 1e-6)
  expect_type(p_dt, "double")
})

test_that("logical and 0/1 labels predict the probability of TRUE / 1", {
  df <- toy_reviews(2)
  df$liked <- df$score == "good"
  fit <- bert_train(df, "review", "liked", pretrained = tiny_bert(), seq_len = 16L, epochs = 1L,
                    batch_size = 8L, validation_split = 0, verbose = FALSE)
  expect_equal(fit$levels, c("FALSE", "TRUE"))
  expect_identical(predict(fit, df[0, ], type = "class"), logical(0))
  df$liked01 <- as.integer(df$liked)
  fit01 <- bert_train(df, "review", "liked01", pretrained = tiny_bert("google"), seq_len = 16L, epochs = 1L,
                      batch_size = 8L, validation_split = 0, verbose = FALSE)
  expect_equal(fit01$levels, c("0", "1"))
  expect_equal(fit01$pretrained$layout, "google")
})

test_that("verbose training reports progress as messages", {
  msgs <- capture_messages(bert_train(toy_reviews(1), "review", "score", pretrained = tiny_bert(),
                                      seq_len = 16L, epochs = 2L, batch_size = 8L, verbose = TRUE))
  expect_true(any(grepl("^Training on 18 rows \\(2 held out\\): 2 epoch\\(s\\) of 3 steps", msgs)))
  expect_true(any(grepl("^Epoch 2/2: loss .*val_auc", msgs)))
  expect_false(any(grepl("\r", msgs, fixed = TRUE)))
  quiet <- capture_messages(bert_train(toy_reviews(1), "review", "score", pretrained = tiny_bert(),
                                       seq_len = 16L, epochs = 1L, batch_size = 8L, verbose = FALSE))
  expect_length(quiet, 0)
})
