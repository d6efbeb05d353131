# The progress reporter: cli bars in dynamic terminals (the plain-line mode is tested in test-training-checkpoints.R).

test_that("in a dynamic terminal the same events draw cli progress bars", {
  old <- options(cli.dynamic = TRUE, cli.progress_show_after = 0, cli.ansi = FALSE)
  on.exit(options(old))
  report <- bertr:::progress_reporter(dynamic = TRUE)
  out <- capture.output(type = "message", {
    report(list(event = "train_begin", step = 0L, rows = 100L, validation_rows = 10L, epochs = 2L, steps = 4L))
    for (i in 1:4) report(list(event = "batch", epoch = 1L, epochs = 2L, step = i, steps = 4L, loss = 0.5,
                               eta = 4 - i))
    report(list(event = "epoch", epoch = 1L, epochs = 2L, loss = 0.5, val_auc = 0.8, seconds = 12, best = TRUE))
    report(list(event = "tokenize", step = 40000L, steps = 100000L, elapsed = 4))
    report(list(event = "tokenize", step = 100000L, steps = 100000L, elapsed = 8))
  })
  text <- paste(out, collapse = "\n")
  expect_match(text, "Training on 100 rows")
  expect_match(text, "Epoch 1/2 .* 1/4 \\| loss 0.5000 \\| ETA 3s")
  expect_match(text, "Epoch 1/2 .* 4/4 \\| loss 0.5000 \\| ETA 0s")
  expect_match(text, "Epoch 1/2: loss 0.5000, val_auc 0.8000 \\(12s\\) \\*")
  expect_match(text, "Tokenizing .* 100000/100000 \\| rows")
})
