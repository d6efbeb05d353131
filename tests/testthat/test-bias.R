# bert_bias_metrics(): the core's numbers in R's types, its warnings and errors, print and plot, and the same
# numbers for a fitted model as for its scores.

# toy_reviews() with identity columns from the words of the text: numeric (with NA), a soft fraction, logical.
bias_data <- function(repeat_times = 2) {
  d <- toy_reviews(repeat_times)
  d$liked <- as.numeric(d$score == "good")
  d$coffee <- as.numeric(grepl("coffee", d$review))
  d$coffee[c(3, 21)] <- NA # missing: not in the subgroup (row 21 mentions coffee)
  d$tea <- ifelse(grepl("tea|taste", d$review), 0.8, 0.1)
  d$snack <- grepl("snack|chocolate", d$review)
  d
}

hand_auc <- function(score, truth) {
  mean(outer(score[truth], score[!truth], ">") + 0.5 * outer(score[truth], score[!truth], "=="))
}

test_that("bert_bias_metrics on scores gives the core's numbers as a data.frame with the overall figures", {
  skip_if_no_bertr()
  d <- bias_data()
  score <- round(seq(0.1, 0.9, length.out = nrow(d)) + 0.4 * d$liked, 1) # ties after rounding
  bias <- bert_bias_metrics(score, d, "liked", c("coffee", "tea", "snack"))
  expect_s3_class(bias, c("bert_bias_metrics", "data.frame"))
  expect_named(bias, c("subgroup", "n", "subgroup_auc", "bpsn_auc", "bnsp_auc"))
  expect_equal(bias$subgroup, c("coffee", "tea", "snack"))
  expect_equal(bias$n, c(3L, 8L, 8L))

  identity <- function(column) as.list(as.numeric(d[[column]]))
  core <- bertr:::bertr_core()$bias_metrics(as.list(d$liked), as.list(score),
                                            list(coffee = identity("coffee"), tea = identity("tea"),
                                                 snack = identity("snack")))
  expect_equal(bias$bpsn_auc, unlist(core$columns$bpsn_auc))
  expect_equal(attr(bias, "overall_auc"), core$overall_auc)
  expect_equal(attr(bias, "power_means"), unlist(core$power_means))
  expect_equal(attr(bias, "final_score"), core$final_score)
  expect_equal(attr(bias, "final_score"), mean(c(attr(bias, "overall_auc"), attr(bias, "power_means"))))

  # by hand: the snack subgroup's negatives with the other rows' positives
  truth <- d$liked == 1
  rows <- (d$snack & !truth) | (!d$snack & truth)
  expect_equal(bias$bpsn_auc[3], hand_auc(score[rows], truth[rows]))
  expect_equal(attr(bias, "overall_auc"), hand_auc(score, truth))

  out <- capture.output(print(bias))
  expect_match(out[1], "unintended-bias AUCs of 3 identities")
  expect_true(any(grepl("^ *coffee +3 ", out)))
  expect_true(any(grepl("power mean \\(p = -5\\) of BPSN AUC: +0\\.", out)))
  expect_true(any(grepl(sprintf("final score: +%.4f", attr(bias, "final_score")), out)))

  pdf(NULL)
  on.exit(grDevices::dev.off())
  expect_identical(plot(bias), bias)
})

test_that("a one-class AUC is NA with a bertr_warning naming the identity, and the default identities are used", {
  skip_if_no_bertr()
  d <- bias_data()
  d$male <- as.numeric(d$liked == 1 & grepl("coffee", d$review)) # its subgroup holds positives only
  d$female <- d$tea
  score <- seq_len(nrow(d)) / nrow(d)
  warnings <- list()
  bias <- withCallingHandlers(bert_bias_metrics(score, d, "liked"), warning = function(w) {
    warnings[[length(warnings) + 1]] <<- w
    invokeRestart("muffleWarning")
  })
  expect_equal(bias$subgroup, c("male", "female")) # the scored identities that d has, in the competition's order
  expect_true(is.na(bias$subgroup_auc[1]) && is.na(bias$bpsn_auc[1]))
  expect_s3_class(warnings[[1]], "bertr_warning")
  expect_match(conditionMessage(warnings[[1]]), "The subgroup AUC of identity 'male' is NA")
  expect_match(conditionMessage(warnings[[2]]), "The BPSN AUC of identity 'male' is NA")
  expect_equal(attr(bias, "power_means")[["subgroup_auc"]], bias$subgroup_auc[2]) # the NA is left out
  expect_false(is.na(attr(bias, "final_score")))
})

test_that("bert_bias_metrics refuses bad input with bertr_errors naming the column", {
  skip_if_no_bertr()
  d <- bias_data()
  score <- seq_len(nrow(d)) / nrow(d)
  expect_bertr_error(bert_bias_metrics(score, d, "liked", "mael"), "Column 'mael' \\(the identity\\) is not in")
  expect_bertr_error(bert_bias_metrics(score, d, "likd", "tea"), "Column 'likd' \\(the label\\) is not in")
  expect_bertr_error(bert_bias_metrics(score, d, "liked", "review"), "Column 'review' \\(an identity\\) must be")
  expect_bertr_error(bert_bias_metrics(score[-1], d, "liked", "tea"), "39 scores for the 40 rows")
  expect_bertr_error(bert_bias_metrics(replace(score, 2, NA), d, "liked", "tea"), "missing \\(NA\\) in row\\(s\\) 2")
  expect_bertr_error(bert_bias_metrics(score, d, "liked"), "has none of the scored identity columns")
  expect_bertr_error(bert_bias_metrics(score, d, "score", "tea"), "Column 'score' \\(the label\\) must be numeric")
  expect_bertr_error(bert_bias_metrics(score, d, identities = "tea"), "`label` is missing")
  d$liked[c(4, 9)] <- NA
  expect_bertr_error(bert_bias_metrics(score, d, "liked", "tea"),
                     "'liked' \\(the label\\) is missing \\(NA\\) in row\\(s\\) 4, 9")
})

test_that("a fitted model gives the same numbers as its scores", {
  d <- bias_data()
  fit <- bert_train(d, "review", "score", pretrained = tiny_bert(), seq_len = 16L, epochs = 1L, batch_size = 8L,
                    validation_split = 0, seed = 1L, verbose = FALSE)
  identities <- c("coffee", "tea", "snack")
  from_scores <- bert_bias_metrics(predict(fit, d, type = "prob"), d, "liked", identities)
  expect_equal(bert_bias_metrics(fit, d, "liked", identities), from_scores)
  expect_equal(bert_bias_metrics(fit, d, identities = identities), from_scores) # the model's label: 'good' is positive
  expect_bertr_error(bert_bias_metrics(structure(list(task = "multiclass"), class = "bert_classifier"), d),
                     "binary or soft model .*, not a multiclass one")
})
