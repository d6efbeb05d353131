# Every task on real text: modeldata::small_fine_foods and transformations of it, embedded model,
# 320 training and 160 held-out reviews, seq_len 64. Prints the held-out metrics next to a constant predictor.
# Run: Rscript inst/scripts/tasks.R   (about 8 minutes on a 2-core CPU)
suppressPackageStartupMessages(library(bertr))
data("small_fine_foods", package = "modeldata")
prep <- function(d) {
  d <- as.data.frame(d)
  d$great <- d$score == "great"
  d$smoothed <- ifelse(d$great, 0.9, 0.1)
  d$n_words <- lengths(strsplit(d$review, "\\s+"))
  d$long <- d$n_words > 45 # visible within seq_len = 64 tokens (about 48 words)
  d$visible_words <- pmin(d$n_words, 45) # a length the model can see in its 64 tokens
  text <- tolower(d$review)
  d$topic <- factor(ifelse(grepl("coffee|tea\\b|drink", text), "drink",
                           ifelse(grepl("\\b(dog|dogs|cat|cats)\\b", text), "pet", "food")),
                    levels = c("food", "drink", "pet"))
  d
}
train <- prep(training_data[1:320, ])
test <- prep(testing_data[1:160, ])
fit_task <- function(label, epochs = 1L, ...) {
  bert_train(train, "review", label, seq_len = 64L, epochs = epochs, batch_size = 16L, learning_rate = 1e-4,
             validation_split = 0, verbose = FALSE, ...)
}
runs <- list(
  list("binary: score", fit_task("score", 2L), "auc"),
  list("soft: smoothed score (0.9 / 0.1)", fit_task("smoothed"), "auc"),
  list("multiclass: topic (food / drink / pet)", fit_task("topic", 2L), "auc"),
  list("multilabel: great + long", fit_task(c("great", "long")), "auc"),
  list("regression: words per review, capped at 45", fit_task("visible_words", task = "regression"), "rmse"),
  list("binary pair: review + product", fit_task("score", text_pair = "product"), "auc")
)
constant <- c(auc = 0.5, rmse = sqrt(mean((test$visible_words - mean(train$visible_words))^2)))
rows <- lapply(runs, function(r) {
  m <- bert_evaluate(r[[2]], test)
  data.frame(task = r[[1]], metric = r[[3]], held_out = round(m[[r[[3]]]], 4),
             constant = round(constant[[r[[3]]]], 4), minutes = round(r[[2]]$fit_seconds / 60, 1))
})
print(do.call(rbind, rows), row.names = FALSE)
