test_that("the embedded model fine-tunes end to end on a few dozen real sentences", {
  skip_if_no_bertr()
  fit <- bert_train(toy_reviews(2), "review", "score", seq_len = 32L, epochs = 2L, batch_size = 8L,
                    learning_rate = 1e-4, validation_split = 0, verbose = FALSE)
  expect_equal(fit$pretrained$name, "all-MiniLM-L6-v2")
  expect_equal(fit$pretrained$hidden_size, 384L)
  held_out <- data.frame(
    review = c("this coffee is excellent", "i love these snacks", "delicious tea, great price",
               "this coffee is awful", "i hate these snacks", "stale tea, a waste of money"),
    score = factor(rep(c("good", "bad"), each = 3), levels = c("bad", "good"))
  )
  expect_gt(bert_evaluate(fit, held_out)$auc, 0.8) # new wording, same sentiment: real weights generalise

  data("small_fine_foods", package = "modeldata", envir = environment())
  prob <- predict(fit, testing_data[1:24, ])
  expect_length(prob, 24)
  expect_true(all(prob > 0 & prob < 1))
  expect_gt(sd(prob), 0.001) # long real reviews are told apart, not one constant
})
