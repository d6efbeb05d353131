# Parts (b) and (c) for the article's recipe (DESIGN.md section 5), on the same weights as bertr: R-loop
# tokenization padded to seq_len, keras-bert's encoder at a fixed seq_len, the pooled [CLS] ("NSP-Dense", with
# the pretrained pooler's weights) into a new Dense(1, sigmoid, truncated_normal(0.02)), AdamWarmup with
# calc_train_steps, binary cross-entropy, Keras fit() and predict() on whole fixed-length matrices.
# It gets bertr's thread settings (1 inter-op, all cores intra-op) and exact GELU, but keras-bert's own attention,
# an AdamWarmup that updates op by op as keras-bert's does (not bertr's fused kernel), and TensorFlow's own oneDNN
# default (on only for CPUs with AVX-512 VNNI or AMX), where bertr turns oneDNN on everywhere.
flags <- tryCatch(readLines("/proc/cpuinfo", warn = FALSE), error = function(e) character())
Sys.setenv(TF_ENABLE_ONEDNN_OPTS = if (any(grepl("avx512_vnni|amx_tile", flags))) "1" else "0")
args <- commandArgs(trailingOnly = TRUE)
source(file.path(args[[1]], "common.R"))
source(file.path(args[[1]], "recipe_tokenize.R"))
out <- args[[2]]

data <- bench_data()
s <- bench_settings
core <- bench_core()
invisible(core$runtime$configure_threads())
tokenizer <- recipe_tokenizer()
train <- recipe_tokenize(tokenizer, data$train$review, s$seq_len)
test <- recipe_tokenize(tokenizer, data$test$review, s$seq_len)
y_train <- matrix(as.numeric(data$train$score == "great"), ncol = 1)

keras <- reticulate::import("tf_keras")
layers <- reticulate::import("keras_bert.layers")
model_py <- reticulate::import("bertr.graph")
optim <- reticulate::import("bertr.optim")
core$runtime$set_seed(s$seed)
pretrained <- core$load_pretrained()
# keras-bert's own layers (its MultiHeadAttention and LayerNormalization, not bertr's fused ones), with the exact
# GELU the weights need
get_model <- model_py[["_get_model"]]
c(inputs, hidden) %<-% get_model(pretrained$config, s$seq_len, NULL)
bert <- keras$Model(inputs = inputs, outputs = hidden)
model_py$set_encoder_weights(bert, pretrained)
fused <- c("bertr.graph.FusedMultiHeadAttention", "bertr.graph.FusedLayerNormalization")
stopifnot(!any(vapply(bert$layers, function(layer) inherits(layer, fused), logical(1))))
cls <- layers$Extract(index = 0L, name = "Extract")(bert$output)
pooled <- keras$layers$Dense(pretrained$config$hidden_size, activation = "tanh", name = "NSP-Dense")(cls)
output <- keras$layers$Dense(1L, activation = "sigmoid",
                             kernel_initializer = keras$initializers$TruncatedNormal(stddev = 0.02))(pooled)
model <- keras$Model(inputs = bert$inputs, outputs = output)
model$get_layer("NSP-Dense")$set_weights(list(pretrained$weights[["bert/pooler/dense/kernel"]],
                                              pretrained$weights[["bert/pooler/dense/bias"]]))
c(decay_steps, warmup_steps) %<-% optim$calc_train_steps(nrow(train$token), s$batch_size, s$epochs)
model$compile(optim$AdamWarmup(decay_steps, warmup_steps, learning_rate = s$learning_rate, fused = FALSE),
              loss = "binary_crossentropy", metrics = list("accuracy"))

train_s <- seconds(model$fit(list(train$token, train$segment), y_train, epochs = s$epochs,
                             batch_size = s$batch_size, verbose = 0L))
predict_once <- function() model$predict(list(test$token, test$segment), batch_size = s$batch_size, verbose = 0L)
prob <- predict_once()
predict_t <- timed(predict_once, reps = 3)

real_lengths <- rowSums(train$token > 0)
config <- pretrained$config
write_part(list(
  train_rows = nrow(train$token), test_rows = nrow(test$token), pooling = "cls",
  onednn = Sys.getenv("TF_ENABLE_ONEDNN_OPTS") == "1", adam = "op by op (keras-bert's)",
  train_s = train_s, train_examples_per_s = s$epochs * nrow(train$token) / train_s,
  predict_s = predict_t$median_s, predict_runs_s = predict_t$runs_s,
  predict_examples_per_s = nrow(test$token) / predict_t$median_s,
  test_auc = roc_auc(prob[, 1], data$test$score == "great"),
  real_tokens = sum(real_lengths), processed_tokens = length(train$token),
  useful_flops = s$epochs * training_flops(real_lengths, config),
  processed_flops = s$epochs * training_flops(rep(s$seq_len, nrow(train$token)), config)
), out)
