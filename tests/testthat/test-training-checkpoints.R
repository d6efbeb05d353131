# Checkpoints, resume after a SIGKILL of the R process, early stopping, determinism, summary and plot.

train_toy <- function(dir, ...) {
  args <- utils::modifyList(list(toy_reviews(), "review", "score", pretrained = dir, seq_len = 16L, epochs = 3L,
                                 batch_size = 8L, learning_rate = 1e-2, validation_split = 0.2, seed = 3L),
                            list(...))
  do.call(bert_train, args)
}

test_that("an R session killed after a mid-epoch checkpoint resumes to the uninterrupted result", {
  tiny_dir <- tiny_bert()
  reference <- train_toy(tiny_dir, verbose = FALSE)
  ckpt <- tempfile("ckpt-")
  script <- tempfile(fileext = ".R")
  writeLines(c(
    "library(bertr)",
    sprintf("source('%s')", normalizePath(test_path("helper-bertr.R"))),
    "invisible(bertr:::bertr_core())",
    # kill this R process (SIGKILL) as soon as the checkpoint of step 11 (epoch 2, batch 3) is complete
    "reticulate::py_run_string('",
    "import os, signal, bertr.training_checkpoints as c",
    "save = c.Checkpointer.save",
    "def killing_save(self, trainer):",
    "    path = save(self, trainer)",
    "    if trainer.state.step == 11: os.kill(os.getpid(), signal.SIGKILL)",
    "    return path",
    "c.Checkpointer.save = killing_save')",
    sprintf("bert_train(toy_reviews(), 'review', 'score', pretrained = '%s', seq_len = 16L, epochs = 3L,", tiny_dir),
    "  batch_size = 8L, learning_rate = 1e-2, validation_split = 0.2, seed = 3L, verbose = FALSE,",
    sprintf("  checkpoint_dir = '%s', checkpoint_every = 11L)", ckpt),
    "cat('NOT KILLED\\n')"
  ), script)
  out <- suppressWarnings(system2(file.path(R.home("bin"), "Rscript"), script, stdout = TRUE, stderr = TRUE))
  expect_false(any(grepl("NOT KILLED", out)), info = paste(out, collapse = "\n"))
  expect_true(file.exists(file.path(ckpt, "latest.json")), info = paste(out, collapse = "\n"))
  expect_equal(jsonlite::fromJSON(file.path(ckpt, "latest.json"))$checkpoint, "step-00000011")

  msgs <- character()
  resumed <- withCallingHandlers(
    train_toy(tiny_dir, checkpoint_dir = ckpt, checkpoint_every = 11L),
    message = function(m) {
      msgs <<- c(msgs, conditionMessage(m))
      invokeRestart("muffleMessage")
    }
  )
  expect_true(any(grepl("Resuming from the checkpoint at step 11 \\(epoch 2\\)", msgs)))
  expect_equal(resumed$resumed_at, 11L)
  expect_equal(resumed$steps$step, 1:24)
  expect_equal(resumed$steps$learning_rate, reference$steps$learning_rate)
  expect_equal(resumed$history$val_auc, reference$history$val_auc, tolerance = 1e-6)
  expect_equal(predict(resumed, toy_reviews(1)), predict(reference, toy_reviews(1)), tolerance = 1e-4)
  expect_output(print(summary(resumed)), "resumed from checkpoint\\(s\\) at step 11")

  # the same seed gives the same weights and predictions; a checkpoint of another run is refused
  again <- train_toy(tiny_dir, verbose = FALSE)
  expect_identical(predict(again, toy_reviews(1)), predict(reference, toy_reviews(1)))
  expect_bertr_error(train_toy(tiny_dir, checkpoint_dir = ckpt, learning_rate = 1e-3, verbose = FALSE),
                     "other settings \\(learning_rate = 0.01 there, 0.001 now\\).*resume = FALSE")
  fresh <- train_toy(tiny_dir, checkpoint_dir = ckpt, resume = FALSE, verbose = FALSE)
  expect_length(fresh$resumed_at, 0)
})

test_that("early stopping keeps the best epoch; summary and plot describe the run", {
  tiny_dir <- tiny_bert()
  fit <- train_toy(tiny_dir, epochs = 30L, early_stopping = list(monitor = "val_loss", patience = 2), verbose = FALSE)
  expect_true(fit$stopped_early)
  best <- which.min(fit$history$val_loss)
  expect_equal(fit$best_epoch, best)
  expect_equal(nrow(fit$history), best + 2L)
  expect_equal(fit$kept_epoch, best) # computed by the core, only read by R
  expect_equal(fit$monitor, "val_loss")
  out <- capture.output(print(summary(fit)))
  expect_true(any(grepl("stopped early after [0-9]+ epoch\\(s\\); weights of epoch [0-9]+ kept", out)))
  expect_true(any(grepl("^ *epoch +step +loss +val_loss", out)))
  expect_true(any(grepl("early_stopping = list\\(monitor = \"val_loss\", patience = 2\\)", out)))
  expect_output(print(fit), sprintf("epoch %d: .*\\(best, kept\\)", best))

  png_file <- tempfile(fileext = ".png")
  grDevices::png(png_file, width = 900, height = 400)
  expect_invisible(plot(fit))
  grDevices::dev.off()
  expect_gt(file.size(png_file), 5000)

  expect_bertr_error(train_toy(tiny_dir, early_stopping = "yes", verbose = FALSE),
                     "`early_stopping` must be TRUE, FALSE")
  expect_bertr_error(train_toy(tiny_dir, early_stopping = list(monitor = "val_f1"), epochs = 1L, verbose = FALSE),
                     "monitors 'val_f1'.*choose one of loss, val_loss")
  expect_bertr_error(train_toy(tiny_dir, early_stopping = TRUE, validation_split = 0, verbose = FALSE),
                     "needs validation rows")
})

test_that("progress is plain lines outside a terminal, and a rendered R Markdown shows it and the plot", {
  skip_if_not(rmarkdown::pandoc_available(), "pandoc is not installed")
  tiny_dir <- tiny_bert()
  msgs <- character()
  withCallingHandlers(train_toy(tiny_dir, epochs = 2L), message = function(m) {
    msgs <<- c(msgs, conditionMessage(m))
    invokeRestart("muffleMessage")
  })
  expect_true(any(grepl("^Epoch 1/2 \\[=+-*\\] [0-9]+/8 \\| loss [0-9.]+ \\| ETA", msgs)))
  expect_true(any(grepl("^Epoch 2/2: loss [0-9.]+, val_loss", msgs)))
  expect_false(any(grepl("\r", msgs, fixed = TRUE)))
  expect_lte(sum(grepl("^Epoch 1/2 \\[", msgs)), 5) # a few lines per epoch, not one per step

  rmd <- tempfile(fileext = ".Rmd")
  writeLines(c(
    "---", "title: progress", "output: html_document", "---", "",
    "```{r}",
    "library(bertr)",
    sprintf("source('%s')", normalizePath(test_path("helper-bertr.R"))),
    sprintf("fit <- bert_train(toy_reviews(), 'review', 'score', pretrained = '%s', seq_len = 16L,", tiny_dir),
    "                  epochs = 2L, batch_size = 8L, learning_rate = 1e-2, validation_split = 0.2)",
    "plot(fit)",
    "```"
  ), rmd)
  html <- rmarkdown::render(rmd, quiet = TRUE, envir = new.env())
  page <- paste(readLines(html, warn = FALSE), collapse = "\n")
  expect_match(page, "Epoch 1/2 \\[=+")
  expect_match(page, "Epoch 2/2: loss")
  expect_match(page, "<img src=\"data:image/png;base64,")
  expect_false(grepl("\r", page, fixed = TRUE))
})
