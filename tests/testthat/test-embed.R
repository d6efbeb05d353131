# bert_embed(): one vector per text, from a pretrained model or a fitted classifier; clear errors.

test_that("bert_embed gives a matrix per text, in order, from a pretrained model and from a fitted one", {
  dir <- tiny_bert()
  texts <- c(first = "great coffee and fine tea", second = "bad", third = "i love this tea")
  e <- bert_embed(texts, pretrained = dir, seq_len = 16L, verbose = FALSE)
  expect_true(is.matrix(e) && is.double(e))
  expect_equal(dim(e), c(3L, 16L))  # the tiny model's hidden size
  expect_equal(rownames(e), names(texts))
  one <- bert_embed(texts[["second"]], pretrained = dir, seq_len = 16L, verbose = FALSE)
  expect_equal(one[1, ], e["second", ], tolerance = 1e-5)  # alone or in a batch, in any order: same vector
  unit <- bert_embed(unname(texts), pretrained = dir, seq_len = 16L, normalize = TRUE, pooling = "cls",
                     verbose = FALSE)
  expect_null(rownames(unit))
  expect_equal(sqrt(rowSums(unit^2)), rep(1, 3), tolerance = 1e-5)

  df <- toy_reviews(2)
  fit <- bert_train(df, "review", "score", pretrained = dir, seq_len = 16L, epochs = 1L, batch_size = 8L,
                    validation_split = 0, verbose = FALSE)
  tuned <- bert_embed(fit, df, verbose = FALSE)
  expect_equal(dim(tuned), c(nrow(df), 16L))
  expect_equal(bert_embed(fit, df$review[3:4], verbose = FALSE), tuned[3:4, ], tolerance = 1e-5)
  # named character vectors are texts too (their names once reached Python as a dict's keys)
  named <- c(a = df$review[3], b = df$review[4])
  expect_equal(predict(fit, named), predict(fit, df$review[3:4]))
  expect_equal(bert_tokenize(named, pretrained = dir, seq_len = 16L), bert_tokenize(unname(named), pretrained = dir,
                                                                                  seq_len = 16L))
  expect_equal(rownames(bert_embed(fit, named, verbose = FALSE)), c("a", "b"))
})

test_that("bert_embed refuses bad input with bertr_errors", {
  dir <- tiny_bert()
  expect_error(bert_embed(c("fine", NA), pretrained = dir), "missing \\(NA\\) in row\\(s\\) 2", class = "bertr_error")
  expect_error(bert_embed(1:3, pretrained = dir), "must hold text", class = "bertr_error")
  expect_error(bert_embed("fine", pretrained = dir, pooling = "max"), "pooling must be 'cls' or 'mean'",
               class = "bertr_error")
  expect_error(bert_embed("fine", pretrained = dir, normalize = NA), "`normalize` must be TRUE or FALSE",
               class = "bertr_error")
  expect_error(bert_embed("fine", pretrained = dir, seq_len = 1000L), "seq_len must be between 8 and 64",
               class = "bertr_error")
})
