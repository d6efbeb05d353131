test_that("bert_tokenize returns integer token and segment matrices", {
  skip_if_no_bertr()
  x <- bert_tokenize(c("I love this tea!", "Café crème, not bad at all", "short"), seq_len = 12)
  expect_named(x, c("token", "segment"))
  expect_true(is.integer(x$token) && is.matrix(x$token))
  expect_equal(dim(x$token), c(3L, 12L))
  expect_equal(dim(x$segment), c(3L, 12L))
  expect_true(all(x$token[, 1] == 101L)) # [CLS] in the uncased BERT vocabulary
  expect_equal(x$token[3, 1:3], c(101L, 2460L, 102L)) # [CLS] short [SEP]
  expect_equal(x$token[3, 4:12], rep(0L, 9)) # padding
  expect_true(all(x$segment == 0L))
})

test_that("bert_tokenize encodes sentence pairs in segment 1", {
  skip_if_no_bertr()
  x <- bert_tokenize("good tea", seq_len = 8, text_pair = "bad coffee")
  expect_equal(x$segment[1, ], c(0L, 0L, 0L, 0L, 1L, 1L, 1L, 0L))
  expect_equal(sum(x$token[1, ] == 102L), 2L) # [SEP] twice
})

test_that("bert_tokenize uses the vocabulary of a given model dir", {
  dir <- tiny_bert()
  vocab <- readLines(file.path(dir, "vocab.txt"))
  x <- bert_tokenize("great coffee", pretrained = dir, seq_len = 6)
  expect_equal(vocab[x$token[1, 1:4] + 1L], c("[CLS]", "great", "coffee", "[SEP]"))
})

test_that("bert_tokenize and bert_embed of no texts give matrices with no rows", {
  skip_if_no_bertr()
  x <- bert_tokenize(character(0), seq_len = 12)
  expect_identical(x$token, matrix(integer(0), 0, 12))
  expect_identical(x$segment, matrix(integer(0), 0, 12))
  e <- bert_embed(character(0), verbose = FALSE)
  expect_true(is.matrix(e) && is.double(e))
  expect_equal(dim(e), c(0L, 384L)) # the embedded model's width
})

test_that("bert_tokenize refuses missing texts in R terms", {
  skip_if_no_bertr()
  expect_bertr_error(bert_tokenize(c("a", NA, "b")), "missing \\(NA\\) in row\\(s\\) 2")
  expect_bertr_error(bert_tokenize(1:3), "must hold text")
  expect_bertr_error(bert_tokenize(c("a", " \t")), "`texts` is empty or only whitespace in row\\(s\\) 2")
})
