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

# Short food reviews with an obvious sentiment, in the tiny vocabulary: the Python suite's toy data
# (bertr.testing.POSITIVE / NEGATIVE), labelled "good" / "bad".
toy_reviews <- function(repeat_times = 4) {
  skip_if_no_bertr()
  testing <- reticulate::import_from_path("bertr.testing", path = system.file("python", package = "bertr"))
  pos <- unlist(testing$POSITIVE)
  neg <- unlist(testing$NEGATIVE)
  data.frame(
    review = rep(c(pos, neg), repeat_times),
    score = factor(rep(rep(c("good", "bad"), c(length(pos), length(neg))), repeat_times), levels = c("bad", "good")),
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

# `n` free TCP ports on 127.0.0.1 (bound once by the operating system, then released), for local clusters.
free_ports <- function(n) {
  skip_if_no_bertr()
  socket <- reticulate::import("socket")
  sockets <- lapply(seq_len(n), function(i) {
    s <- socket$socket()
    s$bind(reticulate::tuple("127.0.0.1", 0L))
    s
  })
  ports <- vapply(sockets, function(s) as.integer(s$getsockname()[[2]]), 1L)
  for (s in sockets) s$close()
  ports
}
