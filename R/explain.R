#' Explain predictions: which words moved them
#'
#' Token attributions by integrated gradients (Sundararajan, Taly and Yan 2017): for each text, how much each of
#' its tokens moved the explained output, the probability of a class, from what the model outputs for a baseline
#' text of the same length whose word tokens are all `[PAD]` (`[CLS]` and `[SEP]` kept). The gradient of the
#' output with respect to the token embeddings is integrated along the straight path from the baseline to the
#' text (the trapezoidal rule over `steps` intervals). The attributions of a text add up to the difference between
#' the output for the text and for the baseline (the completeness property); what is left over is the numerical
#' error of the integral, reported per text (`attr(x, "texts")$error`; a few `1e-4` or less at 50 steps on a
#' fine-tuned model: raise `steps` if it is larger).
#'
#' A positive attribution pushes towards the explained class, a negative one away from it. Texts are cut as the
#' model cuts them (its `truncation`); a model that reads long texts in windows is explained on the cut text (and
#' with `target = NULL`, for the class predicted on the cut text, which may differ from `predict()`'s pooled one).
#' The explained probability is the model's (calibrated when it has a temperature, see [bert_calibrate()]), before
#' any threshold. Texts are explained in length-sorted groups; the cost is about `steps + 1` predictions plus their
#' gradients per text.
#'
#' @param object A `bert_classifier` from [bert_train()].
#' @param newdata A character vector of texts, or a data.frame with the model's text column(s).
#' @param target The class to explain (one, or one per text): a level of `object$levels` (for a multi-label
#'   model, a label). `NULL`: the predicted class (binary: at the model's threshold; multi-label: the most probable
#'   label). Soft and regression models explain their predicted fraction or value and take no target.
#' @param steps Intervals of the integral (more: a smaller completeness error, proportionally slower).
#' @param baseline `"pad"` (every word token's embedding replaced by `[PAD]`'s) or `"zero"` (by zeros).
#' @param batch_size About how many path points go through the network at once (`NULL`: twice the training
#'   batch size).
#' @param verbose Show a progress bar when explaining takes more than a few seconds.
#' @return A data.frame of class `bert_explanation`, one row per token of the texts' words (`[CLS]`, `[SEP]` and
#'   padding have no attribution): `row` (the text's row in `newdata`), `segment` (`"text"`, or `"text_pair"` for
#'   the paired text), `position` (in the model's input), `token`, `word` (the word it belongs to, as written in
#'   the text), `word_id` (the word's number within its text), `start` and `end` (the token's characters in its
#'   text, for [substr()]) and `attribution`. Attributes: `words` (the sums per word, with the word's span), `texts`
#'   (per text: `row`, `label` explained, `output` and `baseline_output`, their difference, the attributions'
#'   `total` and `error` = `total` - `difference`), `steps`, `baseline`. It has [print()] and [plot()] methods, and
#'   [bert_explain_html()] renders it as highlighted text (also what R Markdown shows when it is printed in a
#'   chunk).
#' @examples
#' \dontrun{
#' fit <- bert_train(training_data, "review", "score")
#' why <- bert_explain(fit, testing_data$review[1:3])
#' why                         # the words with the largest attributions, per text
#' plot(why, row = 2)          # one text's words as bars
#' bert_explain_html(why)      # highlighted text (in R Markdown, printing `why` shows this)
#' attr(why, "texts")$error    # completeness: attributions sum to output - baseline_output
#' }
#' @export
bert_explain <- function(object, newdata, target = NULL, steps = 50L, baseline = "pad", batch_size = NULL,
                         verbose = interactive()) {
  input <- newdata_input(object, newdata)
  py <- live_py(object)
  target <- explain_target(target, object, py)
  reporter <- if (isTRUE(verbose)) progress_reporter() else NULL
  args <- c(list(input$texts, pairs = input$pairs, target = target, report = reporter),
            core_args(steps = steps, baseline = baseline, batch_size = batch_size))
  tables <- call_core(do.call(py$explain, args))
  explanation(tables, input, object, steps, baseline)
}

# The target as the core's class values (R's level names are text; the core's classes may be numbers).
explain_target <- function(target, object, py) {
  if (is.null(target)) return(NULL)
  if (!object$task %in% c("binary", "multiclass", "multilabel")) {
    abort("A ", object$task, " model explains its predicted ", if (object$task == "soft") "fraction" else "value",
          "; it takes no `target`.")
  }
  if (!(is.character(target) || is.factor(target) || is.logical(target) || is.numeric(target)) ||
      !length(target) || anyNA(target)) {
    abort("`target` must be a level of the model (", paste(object$levels, collapse = ", "), "), or one per text.")
  }
  found <- match(as.character(target), object$levels)
  if (anyNA(found)) {
    abort("`target` '", as.character(target)[is.na(found)][1], "' is not a ",
          if (object$task == "multilabel") "label" else "level", " of the model (",
          paste(object$levels, collapse = ", "), ").")
  }
  classes <- py$classes_
  classes <- if (is.list(classes)) classes else as.list(classes)
  classes[found]
}

# The core's three tables as the R object: 1-based rows and positions, spans for substr(), segment names.
explanation <- function(tables, input, object, steps, baseline) {
  frame <- function(columns) as.data.frame(lapply(columns, unlist_column), stringsAsFactors = FALSE)
  segment_name <- function(x) c("text", "text_pair")[x + 1]
  tokens <- frame(tables$tokens)
  words <- frame(tables$words)
  texts <- frame(tables$texts)
  result <- data.frame(
    row = tokens$row + 1L, segment = segment_name(tokens$segment), position = tokens$position + 1L,
    token = tokens$token, word = character(nrow(tokens)), word_id = tokens$word + 1L,
    start = tokens$start + 1L, end = tokens$end, attribution = tokens$attribution, stringsAsFactors = FALSE
  )
  words <- data.frame(
    row = words$row + 1L, segment = segment_name(words$segment), word_id = words$word + 1L, word = words$text,
    start = words$start + 1L, end = words$end, attribution = words$attribution, tokens = words$tokens,
    stringsAsFactors = FALSE
  )
  key <- function(x) paste(x$row, x$segment, x$word_id)
  result$word <- words$word[match(key(result), key(words))]
  label <- unlist(lapply(texts$label, function(x) if (is.null(x)) NA_character_ else as.character(x)))
  texts <- data.frame(
    row = texts$row + 1L, label = if (length(label)) label else character(), output = texts$f_text,
    baseline_output = texts$f_baseline, difference = texts$f_text - texts$f_baseline, total = texts$total,
    error = texts$error, stringsAsFactors = FALSE
  )
  texts$text <- unlist(input$texts)
  if (!is.null(input$pairs)) texts$text_pair <- unlist(input$pairs)
  structure(result, class = c("bert_explanation", "data.frame"), words = words, texts = texts,
            steps = as.integer(steps), baseline = baseline, task = object$task)
}

unlist_column <- function(x) {
  if (!length(x)) return(numeric())
  if (is.list(x)) x <- unlist(lapply(x, function(v) if (is.null(v)) NA else v))
  x
}

#' @export
print.bert_explanation <- function(x, n = 8, ...) {
  texts <- attr(x, "texts")
  words <- attr(x, "words")
  cat(sprintf("<bert_explanation> integrated gradients of %d text%s (%d steps, %s baseline); largest |error| %s\n",
              nrow(texts), if (nrow(texts) == 1) "" else "s", attr(x, "steps"),
              if (attr(x, "baseline") == "pad") "[PAD]" else "zero",
              if (nrow(texts)) format(max(abs(texts$error)), digits = 2) else "-"))
  for (i in utils::head(seq_len(nrow(texts)), 5)) {
    what <- if (is.na(texts$label[i])) "output" else sprintf("P(%s)", texts$label[i])
    cat(sprintf("text %d: %s %.3f (baseline %.3f)\n", texts$row[i], what, texts$output[i],
                texts$baseline_output[i]))
    own <- words[words$row == texts$row[i], , drop = FALSE]
    top <- utils::head(own[order(-abs(own$attribution)), , drop = FALSE], n)
    if (nrow(top)) cat(paste0("  ", sprintf("%+.3f %s", top$attribution, top$word), collapse = "\n"), "\n")
  }
  if (nrow(texts) > 5) cat(sprintf("... and %d more texts\n", nrow(texts) - 5))
  invisible(x)
}

#' Plot the word attributions of one explained text
#'
#' One horizontal bar per word, in reading order from the top: bars to the right pushed the output towards the
#' explained class, bars to the left away from it (the direction shows the sign without colour; colour repeats
#' it). For a long text, the `max_words` words with the largest attributions are shown, still in reading order.
#'
#' @param x A `bert_explanation` from [bert_explain()].
#' @param row Which text: its row in the data given to [bert_explain()].
#' @param max_words At most this many words.
#' @param ... Passed to [graphics::barplot()].
#' @return `x`, invisibly.
#' @export
plot.bert_explanation <- function(x, row = NULL, max_words = 30, ...) {
  texts <- attr(x, "texts")
  if (!nrow(texts)) abort("This explanation has no texts to plot.")
  row <- row %||% texts$row[1]
  if (!is.numeric(row) || length(row) != 1 || !row %in% texts$row) {
    abort("`row` must be one of the explained rows (", format_rows(texts$row), ").")
  }
  words <- attr(x, "words")
  words <- words[words$row == row, , drop = FALSE]
  if (!nrow(words)) abort("Text ", row, " has no words to plot.")
  if (nrow(words) > max_words) {
    words <- words[sort(order(-abs(words$attribution))[seq_len(max_words)]), , drop = FALSE]
  }
  label <- texts$label[texts$row == row]
  what <- if (is.na(label)) "the output" else sprintf("P(%s)", label)
  values <- rev(words$attribution)  # barplot draws from the bottom
  names(values) <- rev(ifelse(words$segment == "text_pair", paste0(words$word, " (pair)"), words$word))
  old <- graphics::par(mar = c(4.5, max(4, 0.45 * max(nchar(names(values))) + 1), 3, 1))
  on.exit(graphics::par(old))
  limit <- max(abs(values), 1e-12)
  bars <- graphics::barplot(unname(values), horiz = TRUE, xlim = c(-limit, limit) * 1.05, border = NA,
                            col = ifelse(values >= 0, "firebrick", "steelblue"),
                            xlab = sprintf("attribution to %s (right: towards, left: away)", what),
                            main = sprintf("Text %d: %s = %.3f (baseline %.3f)", row, what,
                                           texts$output[texts$row == row], texts$baseline_output[texts$row == row]),
                            ...)
  # every word labelled (barplot would drop those that overlap), smaller when there are many
  graphics::axis(2, at = bars, labels = names(values), las = 1, tick = FALSE, cex.axis = min(0.8, 22 / length(values)))
  graphics::abline(v = 0, col = "grey40")
  invisible(x)
}

#' Explained texts as highlighted HTML
#'
#' Each text as written, its words highlighted by their attribution: red behind words that pushed towards the
#' explained class, blue behind those that pushed away, stronger for larger attributions (scaled per text), with
#' the value in each word's tooltip. Words pushing towards the class are also underlined solid and those pushing
#' away dashed, so the sign shows without colour. Texts are escaped: they are shown, never interpreted as HTML.
#'
#' @param x A `bert_explanation` from [bert_explain()].
#' @param rows Which texts (their rows in the data given to [bert_explain()]); `NULL`: all.
#' @param view Open the HTML in RStudio's viewer (or the browser) as well.
#' @return The HTML as a character string of class `html` (R Markdown shows it as HTML), invisibly when `view`.
#' @export
bert_explain_html <- function(x, rows = NULL, view = FALSE) {
  if (!inherits(x, "bert_explanation")) abort("`x` must be a bert_explanation from bert_explain().")
  texts <- attr(x, "texts")
  rows <- rows %||% texts$row
  unknown <- setdiff(rows, texts$row)
  if (length(unknown)) abort("`rows` has row(s) that were not explained: ", format_rows(unknown), ".")
  words <- attr(x, "words")
  blocks <- vapply(rows, function(row) {
    text <- texts[texts$row == row, , drop = FALSE]
    own <- words[words$row == row, , drop = FALSE]
    what <- if (is.na(text$label)) "output" else sprintf("P(%s)", text$label)
    parts <- c(highlight_text(text$text, own[own$segment == "text", , drop = FALSE]),
               if (!is.null(text$text_pair)) {
                 c("<br><span style=\"color:#666\">pair:</span> ",
                   highlight_text(text$text_pair, own[own$segment == "text_pair", , drop = FALSE]))
               })
    sprintf(paste0("<div style=\"margin:0.6em 0;line-height:1.9\"><div style=\"font-size:85%%;color:#555\">",
                   "text %d: %s = %.3f (baseline %.3f)</div>%s</div>"),
            row, html_escape(what), text$output, text$baseline_output, paste(parts, collapse = ""))
  }, character(1))
  legend <- paste0("<div style=\"font-size:85%;color:#555\">",
                   "<span style=\"background:rgba(178,34,34,0.45);border-bottom:2px solid #555\">towards</span> / ",
                   "<span style=\"background:rgba(70,130,180,0.45);border-bottom:2px dashed #555\">away from</span>",
                   " the explained class (integrated gradients)</div>")
  html <- structure(paste0("<div class=\"bert-explanation\">", legend, paste(blocks, collapse = ""), "</div>"),
                    class = c("html", "character"))
  if (isTRUE(view)) {
    file <- tempfile("bert_explanation", fileext = ".html")
    writeLines(c("<!DOCTYPE html><html><head><meta charset=\"utf-8\"></head><body>", html, "</body></html>"), file,
               useBytes = TRUE)
    viewer <- getOption("viewer", utils::browseURL)
    viewer(file)
    return(invisible(html))
  }
  html
}

# `text` as HTML, its words (spans start..end) wrapped in spans coloured by their attribution.
highlight_text <- function(text, words) {
  words <- words[order(words$start), , drop = FALSE]
  scale <- max(abs(words$attribution), 1e-12)
  out <- character()
  at <- 1L
  for (i in seq_len(nrow(words))) {
    if (words$start[i] > at) out <- c(out, html_escape(substr(text, at, words$start[i] - 1L)))
    value <- words$attribution[i]
    style <- sprintf("background:rgba(%s,%.2f);border-bottom:2px %s #555;border-radius:2px",
                     if (value >= 0) "178,34,34" else "70,130,180", 0.08 + 0.6 * abs(value) / scale,
                     if (value >= 0) "solid" else "dashed")
    out <- c(out, sprintf("<span style=\"%s\" title=\"%+.4f\">%s</span>", style, value,
                          html_escape(substr(text, words$start[i], words$end[i]))))
    at <- words$end[i] + 1L
  }
  if (at <= nchar(text)) out <- c(out, html_escape(substr(text, at, nchar(text))))
  paste(out, collapse = "")
}

html_escape <- function(x) {
  x <- gsub("&", "&amp;", x, fixed = TRUE)
  x <- gsub("<", "&lt;", x, fixed = TRUE)
  x <- gsub(">", "&gt;", x, fixed = TRUE)
  x <- gsub("\"", "&quot;", x, fixed = TRUE)
  gsub("'", "&#39;", x, fixed = TRUE)
}

#' @exportS3Method knitr::knit_print
knit_print.bert_explanation <- function(x, ...) { # nolint: object_name_linter. (a method of knitr's generic)
  if (!knitr::is_html_output()) return(knitr::normal_print(x))
  knitr::asis_output(bert_explain_html(x))
}
