# step_bert_embed(): a recipes step adding bert_embed()'s vectors as columns; prep/bake, tidy, print, resamples,
# fitted models, errors.

# recipes' prep() wraps a step's error in its own (the step's error is its parent): the bertr_error, found in either
bertr_error_in <- function(expr) {
  err <- tryCatch({
    expr
    NULL
  }, error = function(e) e)
  while (!is.null(err) && !inherits(err, "bertr_error")) err <- err$parent
  expect_s3_class(err, "bertr_error")
  err
}

# texts of very different lengths, in no length order (length-sorted batching must not reorder the rows)
varied_reviews <- function() {
  data.frame(
    review = c("great coffee and fine tea i love this tea and i would buy it again and again for my family",
               "bad", "fine tea", "i love this tea",
               "awful coffee bad tea not for me i would not buy it again it was bad bad bad and awful",
               "great"),
    score = factor(c("good", "bad", "good", "good", "bad", "good"), levels = c("bad", "good")),
    stars = c(5, 1, 4, 5, 1, 5),
    stringsAsFactors = FALSE
  )
}

test_that("step_bert_embed: prep/bake on new data gives bert_embed's vectors, in the rows' order", {
  skip_if_not_installed("recipes")
  dir <- tiny_bert()
  df <- varied_reviews()
  rec <- recipes::step_rm(recipes::recipe(score ~ review + stars, data = df), stars)
  rec <- step_bert_embed(rec, review, model = dir, seq_len = 16L, batch_size = 2L)
  untrained <- recipes::tidy(rec, number = 2)
  expect_equal(untrained$terms, "review")
  expect_equal(untrained$model, normalizePath(dir))
  expect_true(is.na(untrained$width))
  expect_output(print(rec), "BERT embeddings \\(.*\\) of review")

  prepped <- recipes::prep(rec, training = df)
  trained <- recipes::tidy(prepped, number = 2)
  expect_equal(trained$terms, "review")
  expect_equal(trained$width, 16L)
  expect_equal(trained$id, untrained$id)
  expect_output(print(prepped), "BERT embeddings .* of review \\[trained\\]")
  expect_true("bertr" %in% recipes::required_pkgs(prepped))

  new <- tibble::as_tibble(df[c(5, 2, 6, 1, 4, 3), ])
  baked <- recipes::bake(prepped, new_data = new)
  expect_s3_class(baked, "tbl_df")
  expect_equal(names(baked), c("score", sprintf("bert_%02d", 1:16)))  # zero-padded to the width; text removed
  expect_equal(baked$score, new$score)
  direct <- bert_embed(new$review, pretrained = dir, seq_len = 16L, verbose = FALSE)
  expect_equal(unname(as.matrix(baked[-1])), direct, tolerance = 1e-6)
  alone <- t(vapply(new$review, function(text) {
    bert_embed(text, pretrained = dir, seq_len = 16L, verbose = FALSE)[1, ]
  }, numeric(16)))
  expect_equal(unname(as.matrix(baked[-1])), unname(alone), tolerance = 1e-5)  # each row is its own text's vector
  # the training data, as baked by prep()
  expect_equal(unname(as.matrix(recipes::bake(prepped, new_data = NULL)[-1])),
               bert_embed(df$review, pretrained = dir, seq_len = 16L, verbose = FALSE), tolerance = 1e-6)

  # a recipe with a directory (or the embedded model) outlives saveRDS()
  again <- unserialize(serialize(prepped, NULL))
  expect_equal(recipes::bake(again, new_data = new), baked)
})

test_that("step_bert_embed: options, prefix, keep_original_cols, text pairs", {
  skip_if_not_installed("recipes")
  dir <- tiny_bert()
  df <- varied_reviews()
  df$reply <- rev(df$review)
  rec <- recipes::recipe(~ review + reply, data = df)
  kept <- recipes::prep(step_bert_embed(rec, review, model = dir, seq_len = 16L, normalize = TRUE, pooling = "cls",
                                        prefix = "e", keep_original_cols = TRUE), training = df)
  baked <- recipes::bake(kept, new_data = df)
  expect_equal(names(baked), c("review", "reply", sprintf("e%02d", 1:16)))
  expect_equal(sqrt(rowSums(as.matrix(baked[-(1:2)])^2)), rep(1, nrow(df)), tolerance = 1e-5)

  paired <- recipes::prep(step_bert_embed(rec, review, reply, model = dir, seq_len = 16L), training = df)
  expect_equal(recipes::tidy(paired, number = 1)$terms, c("review", "reply"))
  baked <- recipes::bake(paired, new_data = df)
  expect_equal(names(baked), sprintf("bert_%02d", 1:16))
  expect_equal(unname(as.matrix(baked)),
               bert_embed(df$review, pretrained = dir, seq_len = 16L, text_pair = df$reply, verbose = FALSE),
               tolerance = 1e-6)
})

test_that("step_bert_embed: a fitted model's tuned encoder; a dead one is a clear error", {
  skip_if_not_installed("recipes")
  dir <- tiny_bert()
  train <- toy_reviews(2)
  fit <- bert_train(train, "review", "score", pretrained = dir, seq_len = 16L, epochs = 1L, batch_size = 8L,
                    validation_split = 0, verbose = FALSE)
  df <- varied_reviews()
  names(df)[1] <- "comment"  # the recipe's column need not be named as in training
  prepped <- recipes::prep(step_bert_embed(recipes::recipe(score ~ comment, data = df), comment, model = fit),
                           training = df)
  expect_equal(recipes::tidy(prepped, number = 1)$model, "bert_classifier")
  baked <- recipes::bake(prepped, new_data = df[3:1, ])
  expect_equal(unname(as.matrix(baked[-1])), bert_embed(fit, df$comment[3:1], verbose = FALSE), tolerance = 1e-6)

  gone <- unserialize(serialize(prepped, NULL))  # as saveRDS() and readRDS() leave it
  expect_bertr_error(recipes::bake(gone, new_data = df), "is gone.*bert_save\\(fit, path\\).*model = path")

  # a bert_save() directory: the tuned encoder, and the recipe survives saveRDS()
  saved <- file.path(tempfile(), "fit")
  bert_save(fit, saved)
  by_path <- recipes::prep(step_bert_embed(recipes::recipe(score ~ comment, data = df), comment, model = saved),
                           training = df)
  expect_match(recipes::tidy(by_path, number = 1)$model, "bert_classifier saved in")
  again <- unserialize(serialize(by_path, NULL))
  expect_equal(unname(as.matrix(recipes::bake(again, new_data = df[3:1, ])[-1])),
               bert_embed(fit, df$comment[3:1], verbose = FALSE), tolerance = 1e-6)
  expect_bertr_error(step_bert_embed(recipes::recipe(~comment, data = df), comment, model = saved, pooling = "cls"),
                     "own `pooling` and `seq_len`")
  expect_bertr_error(step_bert_embed(recipes::recipe(~comment, data = df), comment, model = fit, seq_len = 32L),
                     "own `pooling` and `seq_len`")
  err <- bertr_error_in(recipes::prep(step_bert_embed(recipes::recipe(~ comment + score, data = df), comment, score,
                                                      model = fit), training = df))
  expect_match(conditionMessage(err), "reads single texts: select one column, not 2")
})

test_that("step_bert_embed in a resample loop: prep on analysis(), bake on assessment()", {
  skip_if_not_installed("recipes")
  skip_if_not_installed("rsample")
  dir <- tiny_bert()
  df <- toy_reviews(1)
  set.seed(1)
  folds <- rsample::vfold_cv(df, v = 3)
  rec <- step_bert_embed(recipes::recipe(score ~ review, data = df), review, model = dir, seq_len = 16L)
  for (split in folds$splits) {
    prepped <- recipes::prep(rec, training = rsample::analysis(split))
    held_out <- rsample::assessment(split)
    baked <- recipes::bake(prepped, new_data = held_out)
    expect_equal(nrow(baked), nrow(held_out))
    expect_equal(baked$score, held_out$score)
    expect_equal(unname(as.matrix(baked[-1])),
                 bert_embed(held_out$review, pretrained = dir, seq_len = 16L, verbose = FALSE), tolerance = 1e-6)
  }
})

test_that("step_bert_embed refuses non-text columns, missing texts and bad settings, naming them", {
  skip_if_not_installed("recipes")
  dir <- tiny_bert()
  df <- varied_reviews()
  rec <- recipes::recipe(score ~ ., data = df)
  err <- bertr_error_in(recipes::prep(step_bert_embed(rec, stars, model = dir), training = df))
  expect_match(conditionMessage(err), "column 'stars' must be character \\(or a factor\\), not numeric")
  err <- bertr_error_in(recipes::prep(step_bert_embed(rec, review, stars, score, model = dir), training = df))
  expect_match(conditionMessage(err), "one text column \\(or two, texts and their pairs\\), but 3 were selected")

  holed <- df
  holed$review[c(2, 5)] <- NA
  err <- bertr_error_in(recipes::prep(step_bert_embed(rec, review, model = dir, seq_len = 16L), training = holed))
  expect_match(conditionMessage(err),
               "Column 'review' \\(step_bert_embed\\(\\)\\) is missing \\(NA\\) in row\\(s\\) 2, 5")
  prepped <- recipes::prep(step_bert_embed(rec, review, model = dir, seq_len = 16L), training = df)
  holed$review[c(2, 5)] <- c("", NA)
  expect_bertr_error(recipes::bake(prepped, new_data = holed), "Column 'review' .* row\\(s\\) 5")
  holed$review[5] <- "fine"
  expect_bertr_error(recipes::bake(prepped, new_data = holed), "Column 'review' .* empty .* row\\(s\\) 2")

  # the model and its options are checked by prep(), by the core
  err <- bertr_error_in(recipes::prep(step_bert_embed(rec, review, model = dir, seq_len = 1000L), training = df))
  expect_match(conditionMessage(err), "seq_len must be between 8 and 64")
  err <- bertr_error_in(recipes::prep(step_bert_embed(rec, review, model = tempfile("no-model-")), training = df))
  expect_match(conditionMessage(err), "does not exist")
  expect_bertr_error(step_bert_embed(rec, review, model = 3), "`model` must be NULL")
  expect_bertr_error(step_bert_embed(rec, review, options = list(1)), "`options` must be a named list")
  expect_bertr_error(bertr:::require_package("bertrNoSuchPackage", "step_bert_embed()"),
                     "needs the R package bertrNoSuchPackage, which is not installed")
})

test_that("step_bert_embed with the embedded model: 384 columns bert_001 ... bert_384", {
  skip_if_not_installed("recipes")
  skip_if_no_bertr()
  df <- varied_reviews()[1:3, ]
  prepped <- recipes::prep(step_bert_embed(recipes::recipe(score ~ review, data = df), review), training = df)
  expect_equal(recipes::tidy(prepped, number = 1)$model, "embedded")
  baked <- recipes::bake(prepped, new_data = df[3:1, ])
  expect_equal(names(baked), c("score", sprintf("bert_%03d", 1:384)))
  expect_equal(unname(as.matrix(baked[-1])), bert_embed(df$review[3:1], verbose = FALSE), tolerance = 1e-6)
})
