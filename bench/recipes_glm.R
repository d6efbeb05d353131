# BERT features in a recipe against fine-tuning and TF-IDF, on the full small_fine_foods split (4,000 training,
# 1,000 test reviews; label `score`, "great" / "other"): test ROC AUC of
#   1. step_bert_embed() (the embedded all-MiniLM-L6-v2, its default mean pooling, seq_len 128) + base R glm() on
#      the 384 columns, and the same features in a ridge-penalised logistic regression (for a like-for-like
#      comparison with 2.);
#   2. TF-IDF + ridge-penalised logistic regression, in base R: a simple tokenizer (lower case, runs of letters,
#      digits and apostrophes), the vocabulary of words in at least 3 training reviews, log(1 + tf) * idf scaled to
#      unit length per review; the penalty chosen by 5-fold cross-validated AUC on the training reviews only
#      (glmnet is not available here; an unpenalised glm() on thousands of columns would overfit);
#   3. fine-tuning, quoted: `make demo` (the embedded model, 4,000 reviews, 1 epoch, seq_len 128) gives 0.9121.
# The tidymodels reference for 2. on this split (TF-IDF + a penalised logistic regression) is 0.879.
# Run from the repository root, with bertr installed: nice Rscript bench/recipes_glm.R  (writes
# bench/recipes_glm.json; BERTR_BENCH_ROWS=200 checks the script quickly on fewer rows).
script <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE)[1])
bench_dir <- if (is.na(script)) "bench" else dirname(script)
source(file.path(bench_dir, "common.R"))
suppressPackageStartupMessages(library(recipes))

started <- proc.time()[["elapsed"]]
data <- bench_data()
train <- data$train
test <- data$test
great_train <- train$score == "great"
great_test <- test$score == "great"

# 1. BERT features: prep() embeds the training reviews (recipes bakes its training data), bake() the test reviews
rec <- step_bert_embed(recipe(score ~ review, data = train), review)
prep_s <- seconds(prepped <- prep(rec, training = train))
bake_s <- seconds(test_features <- bake(prepped, new_data = test))
train_features <- bake(prepped, new_data = NULL)
glm_s <- seconds(model <- suppressWarnings(glm(score ~ ., family = binomial(), data = train_features)))
# glm() models the second level ("other"): the AUC for "great" is that of minus its linear predictor
glm_auc <- roc_auc(-predict(model, test_features), great_test)

# Ridge-penalised logistic regression: minimises mean log-loss + lambda / 2 * |beta|^2 (intercept not penalised)
# by L-BFGS from `start`; returns the coefficients (intercept first).
ridge_logistic <- function(x, y, lambda, start = NULL) {
  n <- nrow(x)
  loss <- function(beta) {
    eta <- beta[1] + x %*% beta[-1]
    mean(pmax(eta, 0) - y * eta + log1p(exp(-abs(eta)))) + lambda / 2 * sum(beta[-1]^2)
  }
  gradient <- function(beta) {
    r <- stats::plogis(beta[1] + x %*% beta[-1]) - y
    c(mean(r), crossprod(x, r)[, 1] / n + lambda * beta[-1])
  }
  if (is.null(start)) start <- numeric(ncol(x) + 1)
  stats::optim(start, loss, gradient, method = "L-BFGS-B", control = list(maxit = 2000, factr = 1e5))$par
}
ridge_score <- function(beta, x) (beta[1] + x %*% beta[-1])[, 1]

# lambda by 5-fold cross-validated AUC on the training rows (warm starts down the path); then the fit on all
ridge_cv <- function(x, y, lambdas = 10^seq(-1, -5, by = -0.5), folds = 5) {
  set.seed(1)
  fold <- sample(rep(seq_len(folds), length.out = nrow(x)))
  auc <- vapply(seq_len(folds), function(k) {
    beta <- NULL
    vapply(lambdas, function(lambda) {
      beta <<- ridge_logistic(x[fold != k, , drop = FALSE], y[fold != k], lambda, beta)
      held_out <- fold == k
      roc_auc(ridge_score(beta, x[held_out, , drop = FALSE]), y[held_out] == 1) # nolint: object_usage_linter.
    }, numeric(1))
  }, numeric(length(lambdas)))
  mean_auc <- rowMeans(auc)
  best <- lambdas[which.max(mean_auc)]
  list(lambda = best, cv_auc = stats::setNames(round(mean_auc, 4), format(lambdas)),
       beta = ridge_logistic(x, y, best))
}

embed_x <- as.matrix(train_features[-1])
embed_ridge_s <- seconds(embed_ridge <- ridge_cv(embed_x, as.numeric(great_train)))
embed_ridge_auc <- roc_auc(ridge_score(embed_ridge$beta, as.matrix(test_features[-1])), great_test)

# 2. TF-IDF
words <- function(texts) {
  texts <- tolower(texts)
  regmatches(texts, gregexpr("[a-z0-9']+", texts))
}
tfidf_s <- seconds({
  train_words <- words(train$review)
  test_words <- words(test$review)
  doc_freq <- table(unlist(lapply(train_words, unique)))
  vocabulary <- names(doc_freq)[doc_freq >= 3]
  idf <- log(nrow(train) / as.numeric(doc_freq[vocabulary]))
  tfidf <- function(tokens) {
    x <- matrix(0, length(tokens), length(vocabulary))
    for (i in seq_along(tokens)) {
      counts <- table(match(tokens[[i]], vocabulary), useNA = "no")
      x[i, as.integer(names(counts))] <- log1p(as.numeric(counts))
    }
    x <- sweep(x, 2, idf, `*`)
    x / pmax(sqrt(rowSums(x^2)), 1e-12)
  }
  x_train <- tfidf(train_words)
  x_test <- tfidf(test_words)
  tfidf_ridge <- ridge_cv(x_train, as.numeric(great_train))
})
tfidf_auc <- roc_auc(ridge_score(tfidf_ridge$beta, x_test), great_test)

result <- list(
  what = paste("Test ROC AUC on small_fine_foods (4,000 training / 1,000 test reviews): step_bert_embed() + glm(),",
               "against TF-IDF + ridge logistic regression and fine-tuning"),
  date = format(Sys.time(), "%Y-%m-%d"),
  rows = list(train = nrow(train), test = nrow(test)),
  step_bert_embed_glm = list(auc = round(glm_auc, 4), model = "embedded all-MiniLM-L6-v2", pooling = "mean",
                             seq_len = 128L, columns = ncol(embed_x), prep_s = round(prep_s, 1),
                             bake_s = round(bake_s, 1), glm_s = round(glm_s, 1)),
  step_bert_embed_ridge = list(auc = round(embed_ridge_auc, 4), lambda = embed_ridge$lambda,
                               cv_auc = as.list(embed_ridge$cv_auc), seconds = round(embed_ridge_s, 1)),
  tfidf_ridge = list(auc = round(tfidf_auc, 4), vocabulary = length(vocabulary), lambda = tfidf_ridge$lambda,
                     cv_auc = as.list(tfidf_ridge$cv_auc), seconds = round(tfidf_s, 1),
                     reference_auc = 0.879),
  fine_tuning = list(auc = 0.9121, source = "make demo (the embedded model, 4,000 reviews, 1 epoch, seq_len 128)"),
  total_s = round(proc.time()[["elapsed"]] - started, 1),
  machine = list(cores = parallel::detectCores(), r = format(getRversion()),
                 recipes = format(utils::packageVersion("recipes")))
)
out <- file.path(bench_dir, "recipes_glm.json")
if (nrow(train) < 4000) out <- file.path(tempdir(), "recipes_glm.json")  # a quick check writes elsewhere
jsonlite::write_json(result, out, auto_unbox = TRUE, pretty = TRUE, digits = NA)
cat(sprintf(paste("step_bert_embed + glm AUC %.4f (prep %.0f s, bake %.0f s); same features, ridge %.4f;",
                  "TF-IDF + ridge %.4f (%d words); fine-tuning 0.9121; in all %.0f s -> %s\n"),
            glm_auc, prep_s, bake_s, embed_ridge_auc, tfidf_auc, length(vocabulary), result$total_s, out))
