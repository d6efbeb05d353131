fit_threshold_model <- function() {
  bert_train(toy_reviews(), "review", "score", pretrained = tiny_bert(), seq_len = 16L, epochs = 3L,
             batch_size = 8L, learning_rate = 1e-2, validation_split = 0, seed = 2L, verbose = FALSE)
}

test_that("bert_threshold chooses a threshold on held-out data that predict, evaluate and bert_save use", {
  fit <- fit_threshold_model()
  held_out <- toy_reviews(1)
  prob <- predict(fit, held_out)
  tuned <- bert_threshold(fit, held_out, metric = "youden")
  expect_s3_class(tuned, "bert_classifier")
  choice <- tuned$threshold_choice
  expect_equal(choice$metric, "youden")
  expect_equal(choice$n, nrow(held_out))
  cut <- tuned$threshold
  expect_equal(cut, choice$threshold)
  expected <- factor(ifelse(prob >= cut, "good", "bad"), levels = c("bad", "good"))
  expect_equal(predict(tuned, held_out, type = "class"), expected)
  expect_equal(predict(tuned, held_out), prob) # probabilities do not change
  expect_null(fit$threshold) # the original keeps deciding at 0.5
  expect_equal(predict(fit, held_out, type = "class"),
               factor(ifelse(prob >= 0.5, "good", "bad"), levels = c("bad", "good")))
  expect_equal(bert_evaluate(tuned, held_out)$accuracy, mean(expected == held_out$score))
  expect_output(print(tuned), "threshold: .*chosen for youden")

  path <- file.path(tempfile(), "tuned")
  bert_save(tuned, path)
  loaded <- bert_load(path)
  expect_equal(loaded$threshold, cut)
  expect_equal(predict(loaded, held_out, type = "class"), expected)

  # a call's threshold wins; a set one; back to 0.5
  expect_equal(predict(fit, held_out, type = "class", threshold = 0.99),
               factor(ifelse(prob >= 0.99, "good", "bad"), levels = c("bad", "good")))
  expect_equal(bert_threshold(fit, threshold = 0.3)$threshold, 0.3)
  expect_output(print(bert_threshold(fit, threshold = 0.3)), "threshold: +0.3 \\(set\\)")
  expect_null(bert_threshold(tuned)$threshold)

  target <- bert_threshold(fit, held_out, metric = c(recall = 0.9))$threshold_choice
  expect_gte(target$recall, 0.9)
  expect_equal(target$metric, "recall >= 0.9")
})

test_that("thresholds are refused where they do not apply, in the user's words", {
  fit <- fit_threshold_model()
  held_out <- toy_reviews(1)
  expect_bertr_error(predict(fit, held_out, type = "class", threshold = 1.5),
                     "threshold must be a probability between 0 and 1")
  expect_error(predict(fit, held_out, threshold = 0.3), "applies to `type = \"class\"`")
  expect_bertr_error(bert_threshold(fit, held_out, metric = "auc"), "metric must be one of 'f1'")
  expect_bertr_error(bert_threshold(fit, held_out[held_out$score == "good", ]),
                     "needs both positive and negative rows")
  expect_error(bert_threshold(fit, held_out, threshold = 0.3), "not both")
  expect_equal(bertr:::by_label(c(b = 0.2, a = 0.7), list(levels = c("a", "b"))), c(a = 0.7, b = 0.2))
  expect_error(bertr:::by_label(c(b = 0.2, c = 0.7), list(levels = c("a", "b"))), "names must be the model's labels")
  expect_error(bert_threshold(fit, held_out["review"]), "label")
})
