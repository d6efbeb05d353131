# Each task on real text (modeldata::small_fine_foods and transformations of it) with the embedded model:
# shapes and names as documented, and better than a constant predictor on held-out rows.
real_data <- function() {
  data("small_fine_foods", package = "modeldata", envir = environment())
  words <- function(x) lengths(strsplit(x, "\\s+"))
  prep <- function(d) {
    d <- as.data.frame(d)
    d$great <- d$score == "great"
    d$smoothed <- ifelse(d$great, 0.9, 0.1) # a soft target from a smoothed label
    d$n_words <- words(d$review)
    d$long <- d$n_words > 45 # visible within seq_len = 64 tokens (about 48 words)
    d$visible_words <- pmin(d$n_words, 45) # a length the model can see in its 64 tokens
    text <- tolower(d$review) # 3 classes by what the review is about
    d$topic <- factor(ifelse(grepl("coffee|tea\\b|drink", text), "drink",
                             ifelse(grepl("\\b(dog|dogs|cat|cats)\\b", text), "pet", "food")),
                      levels = c("food", "drink", "pet"))
    d
  }
  list(train = prep(training_data[1:320, ]), test = prep(testing_data[1:160, ]))
}

fit_real <- function(train, label, epochs = 1L, ...) {
  bert_train(train, "review", label, seq_len = 64L, epochs = epochs, batch_size = 16L, learning_rate = 1e-4,
             validation_split = 0, verbose = FALSE, ...)
}

auc_of <- function(score, truth) {
  mean(outer(score[truth], score[!truth], ">") + 0.5 * outer(score[truth], score[!truth], "=="))
}

test_that("binary, soft, multi-class, multi-label, regression and pairs work on real reviews", {
  skip_if_no_bertr()
  d <- real_data()
  test <- d$test

  binary <- fit_real(d$train, "score", epochs = 2L)
  expect_gt(auc_of(predict(binary, test), test$score == "other"), 0.6)

  soft <- fit_real(d$train, "smoothed")
  expect_equal(soft$task, "soft")
  expect_gt(auc_of(predict(soft, test), test$great), 0.6)

  multi <- fit_real(d$train, "topic", epochs = 2L)
  expect_equal(multi$task, "multiclass")
  cls <- predict(multi, test, type = "class")
  expect_equal(levels(cls), c("food", "drink", "pet"))
  expect_equal(colnames(predict(multi, test)), c("food", "drink", "pet"))
  expect_gt(bert_evaluate(multi, test)$auc, 0.6) # macro one-vs-rest AUC; a constant predictor has 0.5

  ml <- fit_real(d$train, c("great", "long"))
  prob <- predict(ml, test)
  expect_equal(colnames(prob), c("great", "long"))
  expect_gt(auc_of(prob[, "long"], test$long), 0.6)

  reg <- fit_real(d$train, "visible_words", task = "regression")
  pred <- predict(reg, test)
  constant_mse <- mean((test$visible_words - mean(d$train$visible_words))^2)
  expect_lt(mean((pred - test$visible_words)^2), constant_mse)

  pair <- fit_real(d$train, "score", text_pair = "product", epochs = 2L) # the binary task's budget
  expect_gt(auc_of(predict(pair, test), test$score == "other"), 0.6)
})
