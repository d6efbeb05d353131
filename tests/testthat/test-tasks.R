# Every task, input shape and weighting option, end to end from R on a tiny model.
tiny_fit <- function(...) {
  args <- list(...)
  defaults <- list(pretrained = tiny_bert(), seq_len = 16L, epochs = 10L, batch_size = 8L,
                   learning_rate = 1e-2, validation_split = 0.2, seed = 1L, verbose = FALSE)
  for (name in names(defaults)) if (is.null(args[[name]])) args[[name]] <- defaults[[name]]
  do.call(bert_train, args)
}

auc_of <- function(score, truth) {
  mean(outer(score[truth], score[!truth], ">") + 0.5 * outer(score[truth], score[!truth], "=="))
}

test_that("soft labels in [0, 1] train a sigmoid on the fraction", {
  df <- toy_reviews()
  df$target <- ifelse(df$score == "good", 0.9, 0.2)
  fit <- tiny_fit(df, "review", "target")
  expect_equal(fit$task, "soft")
  p <- predict(fit, df[1:20, ])
  expect_type(p, "double")
  expect_gt(auc_of(p, df$score[1:20] == "good"), 0.8)
  expect_equal(predict(fit, df[1:20, ], type = "class"), p >= 0.5)
  # no rows in, no rows out, of the same types
  expect_identical(predict(fit, df[0, ]), numeric(0))
  expect_identical(predict(fit, df[0, ], type = "class"), logical(0))
})

test_that("factor labels with more than two levels are multi-class", {
  df <- toy_reviews()
  df$grade <- factor(ifelse(seq_len(nrow(df)) %% 10 %in% 8:9, "mixed", as.character(df$score)),
                     levels = c("bad", "mixed", "good"))
  # 20 epochs at 5e-3: at tiny_fit()'s 10 epochs and 1e-2 the class accuracy of seeds 1-4 was 0.40-0.85 (seed 1 at
  # the constant's 0.40); here 0.60-1.00
  fit <- tiny_fit(df, "review", "grade", epochs = 20L, learning_rate = 5e-3)
  expect_equal(fit$task, "multiclass")
  prob <- predict(fit, df[1:20, ])
  expect_equal(dim(prob), c(20L, 3L))
  expect_equal(colnames(prob), c("bad", "mixed", "good"))
  expect_equal(unname(rowSums(prob)), rep(1, 20), tolerance = 1e-5)
  cls <- predict(fit, df[1:20, ], type = "class")
  expect_equal(levels(cls), c("bad", "mixed", "good"))
  expect_gt(mean(cls == df$grade[1:20]), 0.5) # a constant class gets at most 0.4
  ev <- bert_evaluate(fit, df[1:20, ])
  expect_true(all(c("accuracy", "macro_f1", "auc") %in% names(ev)))
  unseen <- df[1:3, ]
  unseen$grade <- factor(c("bad", "great", "good"))
  expect_bertr_error(bert_evaluate(fit, unseen), "not seen in training: great")
  none <- predict(fit, df[0, ])
  expect_true(is.matrix(none) && is.double(none))
  expect_equal(dim(none), c(0L, 3L))
  expect_equal(colnames(none), c("bad", "mixed", "good"))
  expect_identical(predict(fit, character(0), type = "class"), factor(character(0), levels = c("bad", "mixed", "good")))
  ev0 <- bert_evaluate(fit, df[0, ])
  expect_equal(names(ev0), names(ev))
  expect_equal(ev0$n, 0)
  expect_true(all(is.na(unlist(ev0[-1]))))
})

test_that("several label columns are multi-label", {
  df <- toy_reviews()
  df$positive <- df$score == "good"
  df$drink <- as.integer(grepl("coffee|tea", df$review))
  # 5e-3: at 1e-2 the AUC of seeds 1-4 was 0.66-0.90 (two below 0.75); here 0.79-0.89
  fit <- tiny_fit(df, "review", c("positive", "drink"), epochs = 12L, learning_rate = 5e-3)
  expect_equal(fit$task, "multilabel")
  prob <- predict(fit, df[1:20, ])
  expect_equal(dim(prob), c(20L, 2L))
  expect_equal(colnames(prob), c("positive", "drink"))
  expect_type(predict(fit, df[1:20, ], type = "class"), "logical")
  expect_gt(auc_of(prob[, "positive"], df$positive[1:20]), 0.75)
  none <- predict(fit, df[0, ])
  expect_equal(dim(none), c(0L, 2L))
  expect_equal(colnames(none), c("positive", "drink"))
  none_class <- predict(fit, df[0, ], type = "class")
  expect_true(is.logical(none_class) && identical(dim(none_class), c(0L, 2L)))
  expect_equal(bert_evaluate(fit, df[0, ])$n, 0)
})

test_that("task = 'regression' fits numbers on their own scale", {
  df <- toy_reviews()
  df$stars <- ifelse(df$score == "good", 5, 1)
  fit <- tiny_fit(df, "review", "stars", task = "regression")
  expect_equal(fit$task, "regression")
  pred <- predict(fit, df[1:20, ])
  expect_type(pred, "double")
  expect_gt(mean(pred[1:10]) - mean(pred[11:20]), 1)
  expect_true(all(c("rmse", "mae", "r2") %in% names(bert_evaluate(fit, df[1:20, ]))))
  expect_identical(predict(fit, df[0, ]), numeric(0))
  ev0 <- bert_evaluate(fit, df[0, ])
  expect_equal(ev0$n, 0)
  expect_true(is.nan(ev0$rmse))
})

test_that("sentence pairs, the formula interface and CSV paths", {
  df <- toy_reviews(2)
  df$product <- rep(c("coffee", "tea", "snack", "chocolate"), length.out = nrow(df))
  fit <- tiny_fit(df, "review", "score", text_pair = "product", epochs = 2L)
  expect_equal(fit$text_pair, "product")
  expect_length(predict(fit, df), nrow(df))
  expect_bertr_error(predict(fit, df$review), "reads text pairs")

  fit_f <- tiny_fit(score ~ review, data = df, epochs = 2L)
  expect_equal(fit_f$text, "review")
  expect_equal(fit_f$label, "score")
  fit_p <- tiny_fit(score ~ review + product, data = df, epochs = 1L)
  expect_equal(fit_p$text_pair, "product")
  expect_identical(predict(fit_p, df[0, ]), numeric(0)) # pairs of nothing: nothing

  csv <- tempfile(fileext = ".csv")
  data.table::fwrite(df, csv)
  fit_csv <- tiny_fit(csv, "review", "score", nrows = 30, epochs = 1L, validation_split = 0)
  expect_equal(fit_csv$n_train, 30L)
  expect_bertr_error(tiny_fit(tempfile(fileext = ".csv"), "review", "score"), "does not exist")
})

test_that("class and sample weights, and dropping rows with missing values", {
  df <- toy_reviews(2)
  df$w <- seq(0.5, 1.5, length.out = nrow(df))
  fit <- tiny_fit(df, "review", "score", class_weight = "balanced", sample_weight = "w", epochs = 1L)
  expect_s3_class(fit, "bert_classifier")
  fit2 <- tiny_fit(df, "review", "score", class_weight = c(bad = 1, good = 3), epochs = 1L)
  expect_s3_class(fit2, "bert_classifier")
  expect_bertr_error(tiny_fit(df, "review", "score", class_weight = c(bad = 1)), "lacks a weight for class")
  df$review[c(2, 5)] <- NA
  expect_warning(fit3 <- tiny_fit(df, "review", "score", na_action = "drop", epochs = 1L, validation_split = 0),
                 "Dropped 2 row\\(s\\).*2, 5")
  expect_equal(fit3$n_train, nrow(df) - 2L)
})
