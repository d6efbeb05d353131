fit_explain_model <- function() {
  bert_train(toy_reviews(), "review", "score", pretrained = tiny_bert(), seq_len = 16L, epochs = 6L,
             batch_size = 8L, learning_rate = 1e-2, validation_split = 0, seed = 2L, verbose = FALSE)
}

texts <- c("great coffee, <b>and</b> tea!", "awful café & terrible chocolate", "i love this tea")

test_that("bert_explain gives token attributions that add up to the change in the predicted probability", {
  skip_if_no_bertr()
  fit <- fit_explain_model()
  why <- bert_explain(fit, texts)
  expect_s3_class(why, "bert_explanation")
  expect_named(why, c("row", "segment", "position", "token", "word", "word_id", "start", "end", "attribution"))
  expect_equal(sort(unique(why$row)), 1:3)
  info <- attr(why, "texts")
  expect_equal(info$row, 1:3)
  expect_equal(info$text, texts)
  prob <- predict(fit, texts)
  decided <- as.character(predict(fit, texts, type = "class"))
  expect_equal(info$label, decided) # the predicted class is explained by default
  expect_equal(info$output, ifelse(decided == "good", prob, 1 - prob), tolerance = 1e-5)
  expect_gt(max(abs(info$difference)), 0.01)
  expect_lt(max(abs(info$total - info$difference)), 1e-3) # completeness at 50 steps
  expect_equal(info$error, info$total - info$difference)
  expect_equal(as.vector(tapply(why$attribution, why$row, sum)), info$total, tolerance = 1e-9)

  # spans index the text as R sees it (1-based, for substr), words are the text's own
  ascii <- why[why$row == 3, ]
  expect_equal(substring(texts[3], ascii$start, ascii$end), ascii$token)
  words <- attr(why, "words")
  expect_equal(words$word[words$row == 2], c("awful", "café", "&", "terrible", "chocolate"))
  second <- words[words$row == 2, ]
  expect_equal(substring(texts[2], second$start, second$end), second$word)
  expect_equal(why$word[why$row == 2 & why$word_id == 2], rep("café", sum(why$row == 2 & why$word_id == 2)))

  # another class: the opposite attributions; a data frame in, rows as given
  good <- bert_explain(fit, data.frame(review = texts[1:2]), target = "good")
  bad <- bert_explain(fit, texts[1:2], target = c("bad", "bad"))
  expect_equal(attr(good, "texts")$label, c("good", "good"))
  expect_equal(good$attribution, -bad$attribution, tolerance = 1e-6)

  expect_output(print(why), "integrated gradients of 3 texts \\(50 steps, \\[PAD\\] baseline\\)")
  expect_output(print(why), "text 2: P\\(")
  pdf(NULL)
  on.exit(grDevices::dev.off(), add = TRUE)
  expect_invisible(plot(why, row = 2))
  expect_bertr_error(plot(why, row = 9), "`row` must be one of the explained rows")
})

test_that("bert_explain_html escapes the texts and marks each word's sign", {
  skip_if_no_bertr()
  fit <- fit_explain_model()
  why <- bert_explain(fit, texts[1:2], target = "good")
  html <- bert_explain_html(why)
  expect_s3_class(html, "html")
  expect_false(grepl("<b>", html, fixed = TRUE)) # user content is shown, never interpreted
  expect_match(html, ">&lt;</span><span", fixed = TRUE)
  expect_match(html, "&amp;", fixed = TRUE)
  expect_match(html, ">café</span>", fixed = TRUE)
  words <- attr(why, "words")
  expect_equal(lengths(regmatches(html, gregexpr("border-bottom:2px solid", html))) - 1L, # less the legend's
               sum(words$attribution >= 0))
  expect_equal(lengths(regmatches(html, gregexpr("border-bottom:2px dashed", html))) - 1L,
               sum(words$attribution < 0))
  one <- bert_explain_html(why, rows = 2)
  expect_false(grepl("text 1:", one, fixed = TRUE))
  expect_bertr_error(bert_explain_html(why, rows = 5), "not explained: 5")
})

test_that("bert_explain refuses what it cannot explain, in the user's words", {
  skip_if_no_bertr()
  fit <- fit_explain_model()
  expect_bertr_error(bert_explain(fit, texts, target = "meh"), "`target` 'meh' is not a level of the model")
  expect_bertr_error(bert_explain(fit, texts, steps = 0), "steps must be between 1 and 10000")
  expect_bertr_error(bert_explain(fit, texts, steps = "many"), "`steps` must be a single whole number")
  expect_bertr_error(bert_explain(fit, texts, baseline = "unk"), "baseline must be one of")
  expect_bertr_error(bert_explain(fit, c("fine", NA)), "missing")
  expect_bertr_error(bert_explain("fit", texts), "must be a bert_classifier")
  soft <- bert_train(data.frame(review = toy_reviews()$review, target = rep(c(0.1, 0.9), 20)), "review", "target",
                     pretrained = tiny_bert(), seq_len = 16L, epochs = 1L, batch_size = 8L, validation_split = 0,
                     verbose = FALSE)
  expect_bertr_error(bert_explain(soft, texts, target = "good"), "explains its predicted fraction")
  expect_equal(attr(bert_explain(soft, texts[1]), "texts")$output, predict(soft, texts[1]), tolerance = 1e-5)
})

test_that("bert_explain on text pairs: each token's span indexes its own text", {
  skip_if_no_bertr()
  train <- toy_reviews(2)
  train$other <- rev(train$review)
  fit <- bert_train(train, "review", "score", text_pair = "other", pretrained = tiny_bert(), seq_len = 24L,
                    epochs = 1L, batch_size = 8L, validation_split = 0, verbose = FALSE)
  newdata <- data.frame(review = c("great coffee", "awful tea"), other = c("i love this tea", "bad quality"))
  why <- bert_explain(fit, newdata)
  expect_setequal(why$segment, c("text", "text_pair"))
  for (i in seq_len(nrow(why))) {
    source <- if (why$segment[i] == "text") newdata$review[why$row[i]] else newdata$other[why$row[i]]
    expect_equal(substring(source, why$start[i], why$end[i]), why$token[i])
  }
  expect_equal(attr(why, "texts")$text_pair, newdata$other)
  expect_lt(max(abs(attr(why, "texts")$error)), 1e-3)
  html <- bert_explain_html(why)
  expect_match(html, "pair:</span> <span", fixed = TRUE)
  expect_match(html, ">quality</span>", fixed = TRUE)
})
