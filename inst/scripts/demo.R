# bertr demo: fine-tune the embedded BERT (all-MiniLM-L6-v2) on modeldata::small_fine_foods' 4,000
# training reviews (label: great / other), then score its 1,000 test reviews. Offline, CPU only.
suppressPackageStartupMessages(library(bertr))
data("small_fine_foods", package = "modeldata")

cat(sprintf("small_fine_foods: %d training and %d test reviews; label 'score' (%s)\n",
            nrow(training_data), nrow(testing_data), paste(levels(training_data$score), collapse = " / ")))
started <- Sys.time()
fit <- bert_train(training_data, "review", "score")
trained <- Sys.time()
print(fit)

test <- bert_evaluate(fit, testing_data)
predicted <- predict(fit, testing_data, type = "class")
done <- Sys.time()

cat("\nConfusion matrix on the test reviews (rows: truth, columns: prediction):\n")
print(table(truth = testing_data$score, predicted = predicted))
minutes <- function(from, to) as.numeric(difftime(to, from, units = "mins"))
cat(sprintf("\nTest ROC AUC:  %.4f\nTest accuracy: %.4f\n", test$auc, test$accuracy))
cat(sprintf("Wall time:     %.1f min training, %.1f min scoring, %.1f min in all\n",
            minutes(started, trained), minutes(trained, done), minutes(started, done)))
