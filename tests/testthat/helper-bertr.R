# Skips (with the reason) when the Python core cannot be used, e.g. on CRAN-like machines without it.
skip_if_no_bertr <- function() {
  ok <- tryCatch({
    bertr:::bertr_core()
    TRUE
  }, error = function(e) conditionMessage(e))
  if (!isTRUE(ok)) skip(paste("bertr's Python core is not available:", ok))
}

# A tiny random BERT directory (a few hundred KB) written by the Python core's test helper.
tiny_bert <- function(layout = "huggingface", seed = 0L) {
  skip_if_no_bertr()
  dir <- file.path(tempfile("tiny-bert-"), layout)
  testing <- reticulate::import_from_path("bertr.testing", path = system.file("python", package = "bertr"))
  testing$write_tiny_bert(dir, layout = layout, seed = as.integer(seed))
  dir
}

# Short food reviews with an obvious sentiment, in the tiny vocabulary.
toy_reviews <- function(repeat_times = 4) {
  pos <- c("great coffee", "i love this tea", "excellent chocolate", "best snack ever", "delicious and fresh",
           "amazing flavor", "perfect taste", "good quality", "my dog loves it", "would buy again")
  neg <- c("awful coffee", "i hate this tea", "terrible chocolate", "worst snack ever", "bland and stale",
           "poor flavor", "disappointed with taste", "bad quality", "a waste of money", "never buy again")
  data.frame(
    review = rep(c(pos, neg), repeat_times),
    score = factor(rep(rep(c("good", "bad"), each = 10), repeat_times), levels = c("bad", "good")),
    stringsAsFactors = FALSE
  )
}

expect_bertr_error <- function(expr, pattern) {
  err <- tryCatch({
    expr
    NULL
  }, error = function(e) e)
  expect_s3_class(err, "bertr_error")
  expect_match(conditionMessage(err), pattern)
  expect_false(grepl("Traceback", conditionMessage(err)))
  invisible(err)
}
