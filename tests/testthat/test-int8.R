# predict(precision = "int8"), bert_evaluate() and bert_embed() with the int8 network (ONNX Runtime). Its agreement
# with float32 on the embedded model, every task and the command line are tested in pytest, in the file
# test_quantization.py of inst/python/tests.

skip_if_no_int8 <- function() {
  skip_if_no_bertr()
  for (module in c("onnxruntime", "tf2onnx")) {
    if (!reticulate::py_module_available(module)) {
      skip(paste(module, "(optional, installed by install_bertr(int8 = TRUE)) is not installed"))
    }
  }
}

test_that("int8 predictions, metrics and embeddings are R's types, in row order, close to float32", {
  skip_if_no_int8()
  df <- toy_reviews(2)
  fit <- bert_train(df, "review", "score", pretrained = tiny_bert(), seq_len = 16L, epochs = 1L, batch_size = 8L,
                    validation_split = 0, verbose = FALSE)
  prob <- predict(fit, df, precision = "int8")
  expect_type(prob, "double")
  expect_length(prob, nrow(df))
  expect_equal(prob, predict(fit, df), tolerance = 0.05)
  expect_gt(max(abs(prob - predict(fit, df))), 0) # really another network
  # rows keep their order (within 0.01: activations are quantized per batch, and reversed rows of equal length
  # fall into other batches)
  expect_equal(predict(fit, rev(df$review), precision = "int8"), rev(prob), tolerance = 0.01)
  classes <- predict(fit, df, type = "class", precision = "int8")
  expect_equal(classes, factor(ifelse(prob >= 0.5, "good", "bad"), levels = c("bad", "good")))
  metrics <- bert_evaluate(fit, df, verbose = FALSE, precision = "int8")
  expect_equal(metrics$n, nrow(df))
  # the AUC of the int8 probabilities above (the same batches), by the rank formula with ties counted half; not
  # compared with float32's: one epoch leaves the tiny model near-constant, where quantization reorders rows
  positive <- df$score == "good"
  ranks <- rank(prob)
  auc <- (sum(ranks[positive]) - sum(positive) * (sum(positive) + 1) / 2) / (sum(positive) * sum(!positive))
  expect_equal(metrics$auc, auc, tolerance = 1e-9)
  vectors <- bert_embed(fit, df[1:5, ], precision = "int8", verbose = FALSE)
  expect_equal(dim(vectors), dim(bert_embed(fit, df[1:5, ], verbose = FALSE)))
  expect_bertr_error(predict(fit, df, precision = "int4"), "precision must be \"model\" .* or \"int8\", not 'int4'")
  expect_bertr_error(predict(fit, df, precision = c("int8", "model")), "precision")
})
