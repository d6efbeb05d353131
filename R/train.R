#' Fine-tune a BERT text classifier
#'
#' Fine-tunes a pretrained BERT (by default the embedded all-MiniLM-L6-v2, which works offline) to predict
#' labels from a text column (or a pair of text columns), and returns a fitted `bert_classifier`.
#'
#' The task is detected from the label, or set with `task`:
#' * `"binary"`: logical, 0/1 numbers, or a factor / character with 2 values. One sigmoid output;
#'   `predict(type = "prob")` gives the probability of the second level (`levels()` order for factors,
#'   sorted order for character, `TRUE` for logical, `1` for 0/1).
#' * `"soft"`: numbers in \[0, 1\] that are not all 0/1 (e.g. Jigsaw's `target`, a fraction of raters):
#'   a sigmoid trained on the fraction; `type = "class"` and accuracy use `>= 0.5`.
#' * `"multiclass"`: a factor / character with more than 2 values: softmax; `type = "prob"` is a matrix with
#'   one named column per level, `type = "class"` a factor with the training levels.
#' * `"multilabel"`: `label` names several 0/1 or logical columns: one sigmoid each; predictions are
#'   matrices named by the label columns.
#' * `"regression"`: `task = "regression"` on a numeric label: linear output, mean squared error (targets
#'   are standardised for training); predictions are numbers on the label's scale.
#'
#' The model is keras-bert's encoder (exact GELU), a text summary (see `pooling`: the pretrained pooler
#' over `[CLS]`, or the mean of the token states for models trained that way, such as the embedded default)
#' and a new dense output layer (truncated normal init, stddev 0.02), trained with AdamWarmup (linear warmup over
#' `warmup_proportion` of the steps, then linear decay to 0). A seeded random `validation_split` of the rows
#' is held out and scored after every epoch.
#'
#' @param data A data.frame, tibble or data.table; or the path of a CSV file (read with
#'   `data.table::fread()`, `nrows` rows at most); or a formula `label ~ text` (`label ~ text + pair` for
#'   sentence pairs, `a + b ~ text` for several labels) with the data in `data =`.
#' @param text Name of the text column (or, in `bert_train(formula, data = df)`, the formula).
#' @param label Name of the label column, or several names for a multi-label task.
#' @param text_pair Optional name of a second text column: each row is encoded as
#'   `[CLS] text [SEP] pair [SEP]`, the longer text trimmed first when too long.
#' @param task `NULL` to detect, or one of `"binary"`, `"soft"`, `"multiclass"`, `"multilabel"`,
#'   `"regression"`.
#' @param pretrained `NULL` for the embedded default model, or the path of a Google BERT checkpoint
#'   directory (`bert_config.json`, `bert_model.ckpt.*`, `vocab.txt`) or a Hugging Face BERT directory
#'   (`config.json`, `model.safetensors`, `vocab.txt`).
#' @param seq_len Tokens per text, including `[CLS]` and `[SEP]`; longer texts are truncated.
#' @param epochs,batch_size,learning_rate The fine-tuning schedule.
#' @param validation_split Fraction of rows held out for validation metrics (0 for none).
#' @param seed Seed for initialisation, dropout, shuffling and the validation split.
#' @param verbose Report progress while training, and the detected task.
#' @param class_weight `"balanced"` (weights inversely proportional to class frequency) or a named numeric
#'   vector with one weight per class (binary and multiclass tasks).
#' @param sample_weight Name of a column of non-negative per-row weights. The loss is the weighted sum over a
#'   batch divided by its number of rows, so weights averaging above 1 act like a larger learning rate: scale
#'   them to a mean of 1 to keep the schedule's meaning.
#' @param na_action `"fail"` (default): rows with a missing text or label are an error naming them;
#'   `"drop"`: such rows are dropped with a warning.
#' @param nrows When `data` is a CSV path, the number of rows to read (all by default).
#' @param early_stopping `NULL`/`FALSE` for none; `TRUE` to stop when the task's validation metric
#'   (`val_auc`; `val_accuracy` for multiclass, `val_rmse` for regression) has not improved for one epoch;
#'   or a list with `monitor` (any column of `fit$history`, e.g. `"val_loss"`), `patience` (epochs without
#'   improvement before stopping), `min_delta` and `restore_best` (default `TRUE`: keep the best epoch's
#'   weights).
#' @param checkpoint_dir A directory for training checkpoints: one is written (atomically) at the end of
#'   every epoch and every `checkpoint_every` steps, holding the weights, the optimizer state, the position
#'   in the data and the random streams. Calling `bert_train()` again with the same directory, data and
#'   settings resumes where the last checkpoint left off (after a crash, a closed laptop or a restarted R
#'   session) and gives the same model as an uninterrupted run; a finished run is returned without training.
#' @param checkpoint_every Also write a checkpoint every this many steps (`NULL`: only after each epoch).
#' @param resume With `checkpoint_dir`, continue from its checkpoint (`TRUE`, the default), or start over
#'   and replace it (`FALSE`).
#' @param pooling How the classifier head sees a text: `"cls"` (the `[CLS]` token's state through BERT's
#'   pretrained pooler, as in the original BERT recipe) or `"mean"` (the mean of all token states). `NULL`
#'   (default) follows the pretrained model: `"mean"` for sentence-transformers models trained with mean
#'   pooling, such as the embedded all-MiniLM-L6-v2, `"cls"` for other BERT checkpoints.
#' @param warmup_proportion,weight_decay,dropout,threads Further settings: fraction of steps spent
#'   warming up the learning rate, decoupled weight decay, dropout rate (`NULL`: the model's own), and
#'   TensorFlow intra-op threads (`NULL`: all cores).
#' @param strategy Where training runs, through TensorFlow's `tf.distribute`: `NULL` or `"auto"` (one GPU when
#'   TensorFlow sees one, else the CPU), `"mirrored"` (all GPUs of this machine, or the `devices`), `"multi_worker"`
#'   (several processes or machines: each runs the same `bert_train()` call, the cluster described by the
#'   environment variable `TF_CONFIG` or by Slurm's `srun`), or a `tf.distribute.Strategy` made in Python.
#'   `batch_size` stays the global batch, split over the replicas; the fitted model predicts with the same
#'   strategy. In a cluster only the chief (worker 0) writes checkpoints and saved models. See
#'   `vignette("scaling", package = "bertr")`.
#' @param devices With `strategy = "mirrored"`, the TensorFlow devices to use, e.g. `c("/gpu:0", "/gpu:1")`.
#' @param truncation Which tokens of a text longer than `seq_len` are kept: `"head"` (the first, BERT's usual
#'   cut), `"tail"` (the last) or `"head_tail"` (the first `head_tokens`, by default a quarter of the window, and
#'   the last ones: the best single window in Sun et al. 2019). Text pairs: `"head"` or `"tail"`, the longer text
#'   cut first. See `vignette("long-documents", package = "bertr")`.
#' @param head_tokens With `truncation = "head_tail"`, how many first tokens to keep (`NULL`: a quarter of
#'   `seq_len - 2`).
#' @param long_text `"truncate"` (one window per text, cut by `truncation`) or `"window"`: every text is covered
#'   by overlapping windows of `seq_len` tokens, `stride` tokens apart, the last ending at the text's end. Training
#'   then sees every window as a row with its text's label, weighted so that each text counts once, and the fitted
#'   model predicts, evaluates and embeds by pooling its windows (`window_pooling`) unless told otherwise. Single
#'   texts only.
#' @param stride With windows, the tokens between the starts of two windows (`NULL`: half a window).
#' @param window_pooling How the windows of one text make one result: `"mean"` or `"max"` of their outputs.
#' @param precision `"float32"` (default), `"mixed_bfloat16"` (CPUs with bfloat16 support and recent GPUs) or
#'   `"mixed_float16"` (GPUs only; with loss scaling): Keras's mixed-precision policies; the output layer and
#'   the loss stay in float32, the weights are kept in float32.
#' @return An object of class `bert_classifier`: a list with the Python Keras model (`$model`), the
#'   Python estimator (`$py`), and what the core reports of the fit: the `task`, the label `levels`, the
#'   `settings` in force (every setting, `pooling` resolved), the training `history` (a data.frame, one row per
#'   epoch: `epoch`, `step`, `loss`, the validation metrics, `seconds`), the `steps` (one row per optimizer
#'   step: `step`, `epoch`, `loss`, `learning_rate`), `best_epoch`, `kept_epoch` (the epoch whose weights the
#'   model holds: the best one when early stopping restored it, else the last), `monitor` (the validation
#'   metric that judged the epochs), `stopped_early`, `resumed_at`, the pretrained model, `n_train`,
#'   `n_validation` and `fit_seconds`; and the column names (`text`, `text_pair`, `label`) and the `call`. See
#'   [print()], [summary()], [plot()] and [predict()] methods, and [bert_save()] to keep it.
#' @examples
#' \dontrun{
#' data(small_fine_foods, package = "modeldata")
#' fit <- bert_train(training_data, "review", "score", epochs = 1)
#' predict(fit, testing_data)
#' fit2 <- bert_train(score ~ review, data = training_data, epochs = 1)
#' jigsaw <- bert_train("train.csv", "comment_text", "target", nrows = 2000)
#' }
#' @export
bert_train <- function(data, text, label, text_pair = NULL, task = NULL, pretrained = NULL,
                       seq_len = 128L, epochs = 2L, batch_size = 32L, learning_rate = 1e-4,
                       validation_split = 0.1, seed = 1L, verbose = TRUE, class_weight = NULL,
                       sample_weight = NULL, na_action = c("fail", "drop"), nrows = NULL,
                       warmup_proportion = 0.1, weight_decay = 0.01, dropout = NULL, pooling = NULL,
                       threads = NULL, early_stopping = NULL, checkpoint_dir = NULL, checkpoint_every = NULL,
                       resume = TRUE, strategy = NULL, devices = NULL, precision = "float32",
                       truncation = "head", head_tokens = NULL, long_text = "truncate", stride = NULL,
                       window_pooling = "mean") {
  call <- match.call()
  na_action <- match.arg(na_action)
  spec <- training_spec(data, if (missing(text)) NULL else text, if (missing(label)) NULL else label,
                        text_pair, nrows)
  data <- handle_missing(spec$data, c(spec$text, spec$text_pair, spec$label, sample_weight), na_action)
  texts <- text_column(data, spec$text)
  pairs <- if (is.null(spec$text_pair)) NULL else as.list(text_column(data, spec$text_pair, "text_pair"))
  labels <- label_input(data, spec$label)
  weights <- if (is.null(sample_weight)) NULL else weight_column(data, sample_weight)
  settings <- core_args(
    pretrained = pretrained, task = task, seq_len = seq_len, epochs = epochs, batch_size = batch_size,
    learning_rate = learning_rate, validation_split = validation_split, seed = seed,
    warmup_proportion = warmup_proportion, weight_decay = weight_decay, dropout = dropout, pooling = pooling,
    threads = threads, early_stopping = early_stopping, strategy = strategy, devices = devices,
    precision = precision, truncation = truncation, head_tokens = head_tokens, long_text = long_text,
    stride = stride, window_pooling = window_pooling
  )
  fit_args <- core_args(class_weight = class_weight, checkpoint_dir = checkpoint_dir,
                        checkpoint_every = checkpoint_every, resume = resume)
  py <- call_core(do.call(bertr_core()$BertClassifier, settings))
  reporter <- if (isTRUE(verbose)) progress_reporter() else NULL
  call_core(do.call(py$fit, c(list(as.list(texts), labels$values, classes = labels$classes, pairs = pairs,
                                   sample_weight = weights, label_names = labels$names, callback = reporter),
                              fit_args)))
  fit <- new_bert_classifier(py, list(text = spec$text, text_pair = spec$text_pair, label = spec$label,
                                      label_type = labels$type), call)
  if (isTRUE(verbose)) message(describe_task(fit))
  fit
}
