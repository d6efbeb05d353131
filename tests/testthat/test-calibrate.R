fit_calibration_model <- function() {
  bert_train(toy_reviews(), "review", "score", pretrained = tiny_bert(), seq_len = 16L, epochs = 6L,
             batch_size = 8L, learning_rate = 1e-2, validation_split = 0, seed = 2L, verbose = FALSE)
}

# The held-out toy reviews with three labels flipped: no score separates them perfectly.
noisy_reviews <- function() {
  held_out <- toy_reviews(1)
  flip <- c(1L, 4L, 16L)
  held_out$score[flip] <- ifelse(held_out$score[flip] == "good", "bad", "good")
  held_out
}

test_that("bert_calibrate fits a temperature that predict, bert_evaluate and bert_save use", {
  fit <- fit_calibration_model()
  held_out <- noisy_reviews()
  raw <- predict(fit, held_out)
  calibrated <- bert_calibrate(fit, held_out)
  expect_s3_class(calibrated, "bert_classifier")
  temperature <- calibrated$temperature
  expect_true(is.numeric(temperature) && temperature > 0)
  cal <- calibrated$calibration
  expect_s3_class(cal, "bert_calibration")
  expect_equal(cal$temperature, temperature)
  expect_equal(cal$n, nrow(held_out))
  expect_equal(rownames(cal$metrics), c("before", "after"))
  expect_true(all(c("loss", "accuracy", "auc", "ece") %in% names(cal$metrics)))
  expect_lte(cal$metrics["after", "loss"], cal$metrics["before", "loss"])
  expect_equal(cal$metrics["after", "auc"], cal$metrics["before", "auc"])
  expect_named(cal$reliability, c("when", "lower", "upper", "n", "predicted", "observed"))
  expect_equal(sum(cal$reliability$n), 2L * nrow(held_out))

  prob <- predict(calibrated, held_out)
  logit <- log(raw) - log1p(-raw)
  expect_equal(prob, 1 / (1 + exp(-logit / temperature)), tolerance = 1e-6)
  expect_identical(order(prob), order(raw)) # a temperature keeps the ranking
  expect_equal(predict(calibrated, held_out, type = "class"), predict(fit, held_out, type = "class"))
  expect_null(fit$temperature) # the original keeps its own probabilities
  expect_equal(predict(fit, held_out), raw)
  evaluated <- bert_evaluate(calibrated, held_out)
  expect_equal(evaluated$ece, cal$metrics["after", "ece"])
  expect_equal(evaluated$loss, cal$metrics["after", "loss"])
  expect_output(print(calibrated), "temperature: .*fitted on 20 rows: ECE")
  expect_output(print(summary(calibrated)), "Temperature:")
  expect_output(print(cal), "bert_calibration> temperature")
  pdf(NULL)
  expect_identical(plot(cal), cal)
  dev.off()

  path <- file.path(tempfile(), "calibrated")
  bert_save(calibrated, path)
  loaded <- bert_load(path)
  expect_equal(loaded$temperature, temperature)
  expect_equal(loaded$calibration$metrics, cal$metrics)
  expect_identical(predict(loaded, held_out), predict(calibrated, held_out))

  reset <- bert_calibrate(loaded)
  expect_null(reset$temperature)
  expect_null(reset$calibration)
  expect_equal(predict(reset, held_out), raw)
  set <- bert_calibrate(fit, temperature = 2)
  expect_equal(set$temperature, 2)
  expect_null(set$calibration)
  expect_output(print(set), "temperature: 2 \\(set\\)")
})

test_that("a threshold in force is carried to the calibrated scale, deciding as before", {
  fit <- bert_threshold(fit_calibration_model(), threshold = 0.45)
  held_out <- noisy_reviews()
  expect_message(calibrated <- bert_calibrate(fit, temperature = 3), "threshold 0.45 was carried")
  expect_equal(calibrated$threshold, 1 / (1 + exp(-log(0.45 / 0.55) / 3)))
  expect_equal(predict(calibrated, held_out, type = "class"), predict(fit, held_out, type = "class"))
})

test_that("calibration is refused where it does not apply, in the user's words", {
  fit <- fit_calibration_model()
  held_out <- noisy_reviews()
  expect_bertr_error(bert_calibrate(fit, held_out[0, ]), "needs labelled held-out rows, but there are none")
  expect_error(bert_calibrate(fit, held_out["review"]), "label")
  expect_error(bert_calibrate(fit, held_out, temperature = 2), "not both")
  expect_bertr_error(bert_calibrate(fit, temperature = -1), "temperature must be a finite number > 0")
  expect_error(bert_calibrate(fit, temperature = "hot"), "`temperature` must be a single number")
  right <- toy_reviews(1)
  right <- right[predict(fit, right, type = "class") == right$score, ]
  expect_bertr_error(bert_calibrate(fit, right), sprintf("decides all %d held-out rows right", nrow(right)))
  expect_error(bert_calibrate(list(), held_out), "must be a bert_classifier")
  numbers <- data.frame(review = toy_reviews(1)$review, stars = rep(c(5, 4, 2, 1), 5))
  regression <- bert_train(numbers, "review", "stars", task = "regression", pretrained = tiny_bert(),
                           seq_len = 16L, epochs = 1L, batch_size = 8L, validation_split = 0, verbose = FALSE)
  expect_bertr_error(bert_calibrate(regression, numbers), "calibration applies to classifiers")
  expect_bertr_error(bert_calibrate(regression), "calibration applies to classifiers")
})
