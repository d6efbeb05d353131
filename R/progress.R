# Renders the Python core's progress events in R.
#
# In a dynamic terminal (the R console, RStudio) each epoch gets a cli progress bar that updates in place.
# Elsewhere (Rscript logs, knitr / R Markdown output, non-interactive sessions) nothing is redrawn: the same
# bar is written as a plain line at each quarter of an epoch, so logs and rendered documents hold a few
# readable lines instead of carriage-return spam. Tokenization and prediction show progress only when they
# run for more than a few seconds.

progress_reporter <- function(dynamic = NULL, quiet_seconds = 3) {
  state <- new.env(parent = baseenv()) # cli evaluates the bar format in it
  state$dynamic <- if (is.null(dynamic)) progress_is_dynamic() else isTRUE(dynamic)
  state$bar <- NULL
  state$shown <- -1
  state$task <- ""
  function(event) {
    switch(event$event,
      train_begin = {
        if (event$step > 0) return(invisible(NULL))
        message(sprintf("Training on %s rows (%s held out): %d epoch(s) of %d steps", format_count(event$rows),
                        format_count(event$validation_rows), event$epochs, event$steps))
      },
      resume = message(if (isTRUE(event$finished)) {
        sprintf("Checkpoint at step %d holds a finished run: nothing left to train", event$step)
      } else {
        sprintf("Resuming from the checkpoint at step %d (epoch %d)", event$step, event$epoch)
      }),
      batch = progress_step(state, sprintf("Epoch %d/%d", event$epoch, event$epochs), event$step, event$steps,
                            sprintf("loss %.4f", event$loss), event$eta, key = paste("epoch", event$epoch)),
      epoch = {
        progress_done(state)
        message(sprintf("Epoch %d/%d: %s (%s)%s", event$epoch, event$epochs, format_metrics(event),
                        format_seconds(event$seconds), if (isTRUE(event$best)) " *" else ""))
      },
      train_end = if (isTRUE(event$stopped_early)) {
        message(sprintf("Stopped early after epoch %d: no improvement since epoch %d, whose weights are kept",
                        event$epochs_run, event$best_epoch))
      },
      tokenize = ,
      predict = ,
      explain = {
        what <- switch(event$event, tokenize = "Tokenizing", predict = "Predicting", explain = "Explaining")
        if (event$elapsed < quiet_seconds && !identical(state$task, what)) return(invisible(NULL))
        unit <- switch(event$event, tokenize = "rows", predict = "batches", explain = "groups of texts")
        eta <- event$elapsed / event$step * (event$steps - event$step)
        progress_step(state, what, event$step, event$steps, unit, eta, key = what)
        if (event$step >= event$steps) progress_done(state)
      },
      NULL
    )
    invisible(NULL)
  }
}

progress_is_dynamic <- function() {
  !isTRUE(getOption("knitr.in.progress")) && cli::is_dynamic_tty()
}

# One update of the current bar (a new bar when `key` changes).
progress_step <- function(state, label, step, steps, detail, eta, key) {
  if (!identical(state$task, key)) {
    progress_done(state)
    state$task <- key
    state$shown <- -1
  }
  if (state$dynamic) {
    state$label <- label
    state$detail <- detail
    state$eta <- format_seconds(eta)
    if (is.null(state$bar)) {
      state$bar <- cli::cli_progress_bar(
        total = as.integer(steps), clear = FALSE, .envir = state,
        format = "{label} {cli::pb_bar} {cli::pb_current}/{cli::pb_total} | {detail} | ETA {eta}"
      )
    }
    cli::cli_progress_update(id = state$bar, set = as.integer(step), force = TRUE, .envir = state)
    return(invisible(NULL))
  }
  quarter <- floor(4 * step / steps)
  if (quarter > state$shown) {
    state$shown <- quarter
    message(sprintf("%s %s %d/%d | %s | ETA %s", label, text_bar(step / steps), step, steps, detail,
                    format_seconds(eta)))
  }
  invisible(NULL)
}

progress_done <- function(state) {
  if (!is.null(state$bar)) {
    cli::cli_progress_done(id = state$bar, .envir = state)
    state$bar <- NULL
  }
  state$task <- ""
  invisible(NULL)
}

text_bar <- function(fraction, width = 24) {
  filled <- round(max(0, min(1, fraction)) * width)
  paste0("[", strrep("=", filled), strrep("-", width - filled), "]")
}
