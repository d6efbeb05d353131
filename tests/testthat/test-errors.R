# Every bad input gets a bertr_error naming the culprit, before any training; the session goes on.
test_that("bad inputs give bertr_errors that name the culprit", {
  df <- toy_reviews(1)
  dir <- tiny_bert()
  wrong_vocab <- tiny_bert(seed = 5L)
  cat("extra\n", file = file.path(wrong_vocab, "vocab.txt"), append = TRUE)
  with_na <- df
  with_na$review[c(3, 7)] <- NA
  blank <- df
  blank$review[5] <- "   "
  unicode_blank <- df
  unicode_blank$review[2] <- "\u00a0\u3000"  # no-break and ideographic spaces only
  na_label <- df
  na_label$score[4] <- NA
  numeric_text <- df
  numeric_text$review <- seq_len(nrow(df))
  bad_utf8 <- df
  bad_utf8$review[6] <- rawToChar(as.raw(c(0x63, 0x61, 0x66, 0xe9))) # latin1 bytes, unmarked
  df$one <- "a"
  df$frac <- rep(c(0.2, 1.4), length.out = nrow(df))
  df$num <- rep(c(1, 5, 7), length.out = nrow(df))
  df$stars <- rep(c(1, 5, Inf, 2), length.out = nrow(df))
  df$huge <- rep(c(1, 1e300), length.out = nrow(df))
  df$w_inf <- replace(rep(1, nrow(df)), 6, Inf)
  df$w_na <- replace(rep(1, nrow(df)), 2, NA)
  df$w_neg <- replace(rep(1, nrow(df)), 9, -1)
  df$w_text <- "1"
  train <- function(...) bert_train(df, "review", "score", pretrained = dir, verbose = FALSE, ...)

  cases <- list(
    list(quote(bert_train(df, "reviews", "score")), "Column 'reviews' .* Did you mean 'review'\\?"),
    list(quote(bert_train(df, "review", "scor")), "Column 'scor' \\(the label\\).*Did you mean 'score'"),
    list(quote(bert_train(df, "review", "score", text_pair = "produkt")), "Column 'produkt' \\(the text_pair\\)"),
    list(quote(bert_train(numeric_text, "review", "score")),
         "Column 'review' must hold text \\(character\\), not integer"),
    list(quote(bert_train(with_na, "review", "score")), "Column 'review' is missing \\(NA\\) in row\\(s\\) 3, 7"),
    list(quote(bert_train(blank, "review", "score", pretrained = dir)),
         "Column 'review' is empty or only whitespace in row\\(s\\) 5"),
    list(quote(bert_train(unicode_blank, "review", "score", pretrained = dir)),
         "Column 'review' is empty or only whitespace in row\\(s\\) 2"),
    list(quote(bert_train(df, "review", "stars", task = "regression", pretrained = dir)),
         "Column 'stars' \\(the label\\) must hold finite numbers, but row\\(s\\) 3, 7, 11, 15, 19 hold Inf"),
    list(quote(bert_train(df, "review", "huge", task = "regression", pretrained = dir)),
         "Column 'huge' \\(the label\\) must hold finite numbers \\(at most 3.4e\\+38 .*row\\(s\\) 2, 4"),
    list(quote(train(sample_weight = "w_inf")),
         "Column 'w_inf' \\(the sample_weight\\) must hold finite .* row\\(s\\) 6 hold Inf"),
    list(quote(train(sample_weight = "w_na")),
         "Column 'w_na' \\(the sample_weight\\) is missing \\(NA\\) in row\\(s\\) 2"),
    list(quote(train(sample_weight = "w_neg")),
         "Column 'w_neg' \\(the sample_weight\\) must hold finite numbers >= 0.* row\\(s\\) 9 hold -1"),
    list(quote(train(sample_weight = "w_text")),
         "Column 'w_text' \\(the sample_weight\\) must be numeric, not character"),
    list(quote(bert_train(na_label, "review", "score")), "'score' \\(the label\\) is missing \\(NA\\) in row\\(s\\) 4"),
    list(quote(bert_train(df, "review", "one", pretrained = dir)), "only one class"),
    list(quote(bert_train(df, "review", "frac", task = "soft", pretrained = dir)), "\\[0, 1\\], but row 2 has 1.4"),
    list(quote(bert_train(df, "review", "num", pretrained = dir)), "task = 'regression'"),
    list(quote(train(task = "clasification")), "unknown task 'clasification'"),
    list(quote(train(epochs = 0)), "epochs must be at least 1"),
    list(quote(train(epochs = 1.5)), "`epochs` must be a single whole number"),
    list(quote(train(batch_size = 0)), "batch_size must be at least 1"),
    list(quote(train(seq_len = 4)), "seq_len must be between 8 and [0-9]+"),
    list(quote(train(seq_len = 600)), "seq_len must be between 8 and [0-9]+"),
    list(quote(train(learning_rate = 0)), "learning_rate must be a positive number"),
    list(quote(train(validation_split = 1)), "validation_split must be in \\[0, 1\\)"),
    list(quote(bert_train(df[c(1:2, 11:12), ], "review", "score", pretrained = dir, validation_split = 0.2)),
         "leaves too few rows for training or validation"),
    list(quote(bert_train(tempfile(fileext = ".csv"), "review", "score")), "The CSV file '.*' does not exist"),
    list(quote(bert_train(df, "review", "score", pretrained = tempdir())), "is not a BERT model directory"),
    list(quote(bert_train(df, "review", "score", pretrained = wrong_vocab)),
         "vocab.txt has .* entries but the config says vocab_size"),
    list(quote(bert_train(bad_utf8, "review", "score")), "invalid UTF-8 in row\\(s\\) 6"),
    list(quote(bert_train(list(a = 1), "review", "score")), "must be a data.frame")
  )
  for (case in cases) expect_bertr_error(eval(case[[1]]), case[[2]])
  # after all of these, the same session trains as usual
  fit <- bert_train(df, "review", "score", pretrained = dir, seq_len = 16L, epochs = 1L, batch_size = 8L,
                    validation_split = 0, verbose = FALSE)
  expect_length(predict(fit, df), nrow(df))
})

test_that("a run whose loss becomes NaN or infinite stops with an error naming the step and the cause", {
  df <- toy_reviews(1)
  dir <- tiny_bert()
  ckpt <- tempfile("ckpt-")
  err <- expect_bertr_error(
    bert_train(df, "review", "score", pretrained = dir, seq_len = 16L, epochs = 4L, batch_size = 8L,
               validation_split = 0, learning_rate = 1e8, checkpoint_dir = ckpt, checkpoint_every = 1L,
               verbose = FALSE),
    "Training stopped at step [0-9]+ \\(epoch [0-9], batch [0-9] of 3\\): the loss became (NaN|Inf|-Inf)")
  expect_match(conditionMessage(err), "The last finite loss was [-0-9.e+]+ at step [0-9]+")
  expect_match(conditionMessage(err), "learning rate \\(up to [0-9.e+]+ so far\\).*lower learning_rate")
  kept <- regmatches(conditionMessage(err), regexpr("step-[0-9]+", conditionMessage(err)))
  expect_length(kept, 1) # the checkpoint written before the loss went bad is kept, and is the current one
  expect_true(dir.exists(file.path(ckpt, kept)))
  expect_equal(jsonlite::fromJSON(file.path(ckpt, "latest.json"))$checkpoint, kept)

  df$w <- 3e38 # finite, but the weighted loss overflows float32 at once
  err <- expect_bertr_error(
    bert_train(df, "review", "score", pretrained = dir, seq_len = 16L, epochs = 1L, batch_size = 8L,
               validation_split = 0, sample_weight = "w", verbose = FALSE),
    "Training stopped at step 1 .*: the loss became Inf\\. No step had a finite loss\\.")
  expect_match(conditionMessage(err), "row weights .* reach 3e\\+38")
  # the session trains normally afterwards
  expect_s3_class(bert_train(df, "review", "score", pretrained = dir, seq_len = 16L, epochs = 1L, batch_size = 8L,
                             validation_split = 0, verbose = FALSE), "bert_classifier")
})

test_that("a factor text column is used as text", {
  df <- toy_reviews(1)
  df$review <- factor(df$review)
  fit <- bert_train(df, "review", "score", pretrained = tiny_bert(), seq_len = 16L, epochs = 1L,
                    batch_size = 8L, validation_split = 0, verbose = FALSE)
  expect_length(predict(fit, df), nrow(df))
})

test_that("a directory that is not a BERT model says which file is missing", {
  skip_if_no_bertr()
  df <- toy_reviews(1)
  dir <- tiny_bert()
  file.remove(file.path(dir, "vocab.txt"))
  expect_bertr_error(bert_train(df, "review", "score", pretrained = dir), "missing vocab.txt")
  expect_bertr_error(bert_train(df, "review", "score", pretrained = tempfile()), "does not exist")
})

test_that("a classifier read back with readRDS explains how to keep models", {
  fit <- bert_train(toy_reviews(1), "review", "score", pretrained = tiny_bert(), seq_len = 16L, epochs = 1L,
                    batch_size = 8L, validation_split = 0, verbose = FALSE)
  file <- tempfile(fileext = ".rds")
  saveRDS(fit, file)
  restored <- readRDS(file)
  expect_bertr_error(predict(restored, "great tea"), "bert_save\\(\\) and bert_load\\(\\)")
  expect_bertr_error(predict(fit, data.frame(text = "x")), "Column 'review'")
  # the session goes on working after all these errors
  expect_length(predict(fit, c("great tea", "awful coffee")), 2)
})

test_that("the error bridge decides by the exception's class, and keeps a bug's type and traceback", {
  skip_if_no_bertr()
  bertr:::bertr_core()
  module <- file.path(tempfile("bridge-"), "bridge_probe.py")
  dir.create(dirname(module))
  writeLines(c(
    "import bertr",
    "class Refined(bertr.BertrError):",
    "    pass",
    "def user_problem():",
    "    raise bertr.BertrError('KeyError: a user message that only looks like another type')",
    "def refined_problem():",
    "    raise Refined('from a subclass of BertrError')",
    "def bug():",
    "    return {}['missing']",
    "def interrupted():",
    "    raise KeyboardInterrupt()",
    "def call(callback):",
    "    return callback({'event': 'batch'})"
  ), module)
  probe <- reticulate::import_from_path("bridge_probe", path = dirname(module))
  user <- expect_bertr_error(bertr:::call_core(probe$user_problem()), "^KeyError: a user message")
  expect_equal(conditionMessage(user), "KeyError: a user message that only looks like another type")
  expect_bertr_error(bertr:::call_core(probe$refined_problem()), "^from a subclass of BertrError$")
  bug <- tryCatch(bertr:::call_core(probe$bug()), error = identity)
  expect_s3_class(bug, "bertr_internal_error")
  expect_false(inherits(bug, "bertr_error"))
  expect_equal(bug$python_type, "KeyError")
  expect_match(bug$traceback, "in bug")
  expect_match(conditionMessage(bug), "unexpected KeyError: .missing.*a bug in bertr.*Traceback")
  # an interruption is not a bug; an R error in an R callback the core calls is (bertr's callbacks are its own)
  stopped <- tryCatch(bertr:::call_core(probe$interrupted()), error = identity)
  expect_false(inherits(stopped, c("bertr_error", "bertr_internal_error")))
  callback <- tryCatch(bertr:::call_core(probe$call(function(event) stop("the reporter failed"))), error = identity)
  expect_s3_class(callback, "bertr_internal_error")
  expect_match(conditionMessage(callback), "RuntimeError: the reporter failed")
  # an R error inside call_core() is left as it is, not blamed on the Python error before it
  plain <- tryCatch(bertr:::call_core(stop("a plain R error")), error = identity)
  expect_equal(conditionMessage(plain), "a plain R error")
  expect_false(inherits(plain, c("bertr_error", "bertr_internal_error")))
})
