#' Unintended-bias metrics of toxicity scores
#'
#' The benchmark of Jigsaw's "Unintended Bias in Toxicity Classification" competition: how well scores rank
#' rows within each identity subgroup and against the rest. Per identity: the `subgroup_auc` (the subgroup's
#' rows only), the `bpsn_auc` (background positive, subgroup negative: the subgroup's negatives with the other
#' rows' positives; low when the subgroup's innocent rows score high) and the `bnsp_auc` (the subgroup's
#' positives with the other rows' negatives). The final score is the mean of the overall AUC and the three
#' generalized power means (`p = -5`) of the identities' AUCs, \eqn{M_p = (mean(auc^p))^{1/p}}{M_p =
#' (mean(auc^p))^(1/p)}, which weigh the worst subgroups most.
#'
#' A label of at least 0.5 is positive; a row is in a subgroup when its identity value is at least 0.5 (a missing
#' value: not in it); the background is every row not in the subgroup. An AUC over rows of one class only is
#' `NA`, with a warning, and left out of its mean (a mean with no AUC is `NA`, and so is the final score).
#'
#' @param x A `bert_classifier` from [bert_train()] of a binary or soft task, scored on `data` with
#'   `predict(x, data, type = "prob")`; or a numeric vector of scores, one per row of `data`.
#' @param data A data.frame with the label and identity columns (and, for a fitted `x`, its text columns).
#' @param label The name of the label column: numeric (0/1 or a fraction, e.g. the share of raters who found
#'   the text toxic) or logical. For a fitted `x` it defaults to the model's label, and may also hold the
#'   model's classes (the second of `x$levels`, whose probability is scored, is the positive one).
#' @param identities The names of the identity columns (numeric fractions, 0/1, or logical). `NULL`: those
#'   of the competition's nine scored identities (`male`, `female`, `homosexual_gay_or_lesbian`, `christian`,
#'   `jewish`, `muslim`, `black`, `white`, `psychiatric_or_mental_illness`) that `data` has.
#' @return A data.frame of class `bert_bias_metrics` with one row per identity: `subgroup` (its name), `n`
#'   (rows in the subgroup), `subgroup_auc`, `bpsn_auc` and `bnsp_auc`; and attributes `overall_auc`,
#'   `power_means` (a named vector: the power means of `subgroup_auc`, `bpsn_auc` and `bnsp_auc`), `power`
#'   and `final_score`. It prints with those figures and has a [plot()] method.
#' @examples
#' \dontrun{
#' fit <- bert_train(comments, "comment_text", "target")
#' bias <- bert_bias_metrics(fit, test_comments)  # the nine identities that test_comments has
#' bias
#' attr(bias, "final_score")
#' plot(bias)
#' bert_bias_metrics(scores, test_comments, "target", identities = c("female", "male"))  # a score vector
#' }
#' @export
bert_bias_metrics <- function(x, data, label, identities = NULL) {
  data <- check_data(data)
  fitted <- inherits(x, "bert_classifier")
  if (fitted && !x$task %in% c("binary", "soft")) {
    abort("Bias metrics need a binary or soft model (one score per row), not a ", x$task, " one.")
  }
  if (!fitted && !is.numeric(x)) {
    abort("`x` must be a bert_classifier from bert_train() or a numeric vector of scores, not ", class(x)[1], ".")
  }
  if (missing(label)) {
    if (!fitted) abort("`label` is missing: name the label column.")
    label <- x$label
  }
  check_column_name(data, label, "label")
  truth <- bias_label(data[[label]], label, if (fitted && x$task == "binary") x$levels)
  identities <- identity_columns(data, identities)
  score <- if (fitted) stats::predict(x, data, type = "prob") else as.numeric(x)
  if (length(score) != nrow(data)) {
    abort("`x` has ", length(score), " scores for the ", nrow(data), " rows of `data`: give one per row.")
  }
  if (anyNA(score)) abort("`x` (the scores) is missing (NA) in row(s) ", format_rows(which(is.na(score))), ".")
  result <- call_core(bertr_core()$bias_metrics(as.list(truth), as.list(score), identities))
  for (message in unlist(result$warnings)) warning(bertr_warning(message))
  auc <- function(values) {
    values <- as.numeric(unlist(values))
    values[is.nan(values)] <- NA_real_
    values
  }
  columns <- result$columns
  table <- data.frame(subgroup = unlist(columns$subgroup), n = as.integer(unlist(columns$n)),
                      subgroup_auc = auc(columns$subgroup_auc), bpsn_auc = auc(columns$bpsn_auc),
                      bnsp_auc = auc(columns$bnsp_auc), stringsAsFactors = FALSE)
  structure(table, class = c("bert_bias_metrics", "data.frame"), overall_auc = auc(result$overall_auc),
            power_means = vapply(result$power_means, auc, 1), power = result$power,
            final_score = auc(result$final_score))
}

# The label as numbers for the core (>= 0.5 is positive): numeric or logical, or a binary model's classes.
bias_label <- function(x, column, levels = NULL) {
  what <- paste0("Column '", column, "' (the label)")
  missing <- which(is.na(x))
  if (length(missing)) abort(what, " is missing (NA) in row(s) ", format_rows(missing), ".")
  if (is.numeric(x) || is.logical(x)) return(as.numeric(x))
  if (!is.null(levels) && (is.factor(x) || is.character(x))) {
    unknown <- which(!as.character(x) %in% levels)
    if (length(unknown)) {
      abort(what, " holds '", x[unknown[1]], "' in row(s) ", format_rows(unknown), ", not one of the model's ",
            "classes: ", paste(levels, collapse = ", "), ".")
    }
    return(as.numeric(as.character(x) == levels[2]))
  }
  abort(what, " must be numeric (0/1 or a fraction) or logical, not ", class(x)[1], ".")
}

# The identity columns as a named list of numbers for the core (NA stays NA: not in the subgroup).
identity_columns <- function(data, identities) {
  if (is.null(identities)) {
    scored <- unlist(bertr_core()$metrics$BIAS_IDENTITIES)
    identities <- intersect(scored, names(data))
    if (!length(identities)) {
      abort("`data` has none of the scored identity columns (", paste(scored, collapse = ", "),
            "): name yours with `identities`.")
    }
  }
  if (!is.character(identities) || !length(identities) || anyNA(identities)) {
    abort("`identities` must be column names (a character vector).")
  }
  if (anyDuplicated(identities)) abort("`identities` names column '", identities[anyDuplicated(identities)], "' twice.")
  columns <- lapply(identities, function(column) {
    check_column_name(data, column, "identity")
    x <- data[[column]]
    if (!is.numeric(x) && !is.logical(x)) {
      abort("Column '", column, "' (an identity) must be numeric or logical, not ", class(x)[1], ".")
    }
    as.list(as.numeric(x))
  })
  stats::setNames(columns, identities)
}

#' @export
print.bert_bias_metrics <- function(x, ...) {
  cat(sprintf("<bert_bias_metrics> unintended-bias AUCs of %d identit%s\n", nrow(x),
              if (nrow(x) == 1) "y" else "ies"))
  print(as.data.frame(x), row.names = FALSE, digits = 4)
  means <- attr(x, "power_means")
  kinds <- c(subgroup_auc = "subgroup AUC", bpsn_auc = "BPSN AUC", bnsp_auc = "BNSP AUC")[names(means)]
  figures <- c("overall AUC" = attr(x, "overall_auc"),
               stats::setNames(means, sprintf("power mean (p = %g) of %s", attr(x, "power"), kinds)),
               "final score" = attr(x, "final_score"))
  cat(paste(format(paste0(names(figures), ":")), format(round(figures, 4), nsmall = 4)), sep = "\n")
  invisible(x)
}

#' Plot unintended-bias metrics
#'
#' A grouped horizontal bar chart: each identity's subgroup, BPSN and BNSP AUCs side by side (an `NA` AUC has
#' no bar), with a dashed line at the overall AUC.
#'
#' @param x A `bert_bias_metrics` from [bert_bias_metrics()].
#' @param ... Passed to [graphics::barplot()].
#' @return `x`, invisibly.
#' @export
plot.bert_bias_metrics <- function(x, ...) {
  kinds <- c(subgroup_auc = "subgroup", bpsn_auc = "BPSN", bnsp_auc = "BNSP")
  colours <- c("steelblue", "darkorange", "grey55")
  aucs <- t(as.matrix(as.data.frame(x)[rev(seq_len(nrow(x))), rev(names(kinds)), drop = FALSE]))
  colnames(aucs) <- rev(x$subgroup)  # barplot draws from the bottom: first identity and kind on top
  old <- graphics::par(mar = c(4, max(4, 0.4 * max(nchar(x$subgroup)) + 1), 2.5, 2))
  on.exit(graphics::par(old))
  top <- 4 * nrow(x) + 5  # room above the bars for the legend (two rows)
  graphics::barplot(aucs, beside = TRUE, horiz = TRUE, las = 1, xlim = c(0, 1), ylim = c(0, top),
                    col = rev(colours), border = NA, xlab = "AUC", main = "Unintended-bias AUCs by identity",
                    cex.names = 0.8, ...)
  overall <- attr(x, "overall_auc")
  if (!is.na(overall)) graphics::segments(overall, 0, overall, 4 * nrow(x) + 0.5, lty = 2)
  graphics::legend("top", legend = c(kinds, "overall AUC"), fill = c(colours, NA), border = NA,
                   lty = c(NA, NA, NA, 2), ncol = 2, bty = "n", cex = 0.8)
  invisible(x)
}
