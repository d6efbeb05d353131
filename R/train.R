#' Fine-tune a BERT text classifier
#'
#' Fine-tunes a pretrained BERT (by default the embedded all-MiniLM-L6-v2, which works offline) to predict
#' a binary label from a text column, and returns a fitted `bert_classifier`.
#'
#' The model is keras-bert's encoder (exact GELU) with the pretrained pooler over the `[CLS]` token and a new
#' dense output layer (truncated normal init, stddev 0.02), trained with binary cross-entropy and AdamWarmup
#' (linear warmup over `warmup_proportion` of the steps, then linear decay to 0). A seeded random
#' `validation_split` of the rows is held out and scored after every epoch.
#'
#' @param data A data.frame, tibble or data.table.
#' @param text Name of the text column.
#' @param label Name of the label column: logical, 0/1 numbers, or a factor / character with 2 values.
#'   The probability `predict()` returns is that of the second level (for factors, `levels()` order; for
#'   character, sorted order; `TRUE` for logical; `1` for 0/1).
#' @param pretrained `NULL` for the embedded default model, or the path of a Google BERT checkpoint
#'   directory (`bert_config.json`, `bert_model.ckpt.*`, `vocab.txt`) or a Hugging Face BERT directory
#'   (`config.json`, `model.safetensors`, `vocab.txt`).
#' @param seq_len Tokens per text, including `[CLS]` and `[SEP]`; longer texts are truncated.
#' @param epochs,batch_size,learning_rate The fine-tuning schedule.
#' @param validation_split Fraction of rows held out for validation metrics (0 for none).
#' @param seed Seed for initialisation, dropout, shuffling and the validation split.
#' @param verbose Report progress while training.
#' @param warmup_proportion,weight_decay,dropout,threads Further settings: fraction of steps spent
#'   warming up the learning rate, decoupled weight decay, dropout rate (`NULL`: the model's own), and
#'   TensorFlow intra-op threads (`NULL`: all cores).
#' @return An object of class `bert_classifier`: a list with the Python Keras model (`$model`), the
#'   Python estimator (`$py`), the label `levels`, the `settings`, the training `history` (a data.frame,
#'   one row per epoch) and facts about the pretrained model and data.
#' @examples
#' \dontrun{
#' data(small_fine_foods, package = "modeldata")
#' fit <- bert_train(training_data, "review", "score", epochs = 1)
#' predict(fit, testing_data)
#' }
#' @export
bert_train <- function(data, text, label, pretrained = NULL, seq_len = 128L, epochs = 2L,
                       batch_size = 32L, learning_rate = 5e-5, validation_split = 0.1, seed = 1L,
                       verbose = TRUE, warmup_proportion = 0.1, weight_decay = 0.01, dropout = NULL,
                       threads = NULL) {
  call <- match.call()
  data <- check_data(data)
  texts <- text_column(data, text)
  check_column_name(data, label, "label")
  labels <- label_values(data[[label]], label)
  settings <- list(
    seq_len = whole_number(seq_len, "seq_len"), epochs = whole_number(epochs, "epochs"),
    batch_size = whole_number(batch_size, "batch_size"), learning_rate = number(learning_rate, "learning_rate"),
    validation_split = number(validation_split, "validation_split"), seed = whole_number(seed, "seed"),
    warmup_proportion = number(warmup_proportion, "warmup_proportion"),
    weight_decay = number(weight_decay, "weight_decay")
  )
  if (!is.null(pretrained)) pretrained <- path.expand(as.character(pretrained))
  bertr <- bertr_core()
  py <- call_core(do.call(bertr$BertClassifier, c(settings, list(
    pretrained = pretrained,
    dropout = if (is.null(dropout)) NULL else number(dropout, "dropout"),
    threads = if (is.null(threads)) NULL else whole_number(threads, "threads")
  ))))
  call_core(py$fit(as.list(texts), as.list(labels$values), classes = as.list(labels$levels),
                   callback = if (isTRUE(verbose)) progress_reporter() else NULL))
  new_bert_classifier(py, text = text, label = label, levels = labels$levels, label_type = labels$type,
                      settings = settings, call = call)
}

new_bert_classifier <- function(py, text, label, levels, label_type, settings, call) {
  history <- as.data.frame(lapply(py$history_columns(), unlist), stringsAsFactors = FALSE)
  structure(
    list(
      model = py$model_, py = py, text = text, label = label, levels = levels, label_type = label_type,
      settings = settings, history = history, pretrained = py$pretrained_,
      n_train = py$n_train_, n_validation = py$n_validation_, fit_seconds = py$fit_seconds_, call = call
    ),
    class = "bert_classifier"
  )
}

# Renders the core's progress events as plain lines (readable in consoles, logs and knitr output).
progress_reporter <- function() {
  function(event) {
    switch(event$event,
      train_begin = message(sprintf("Training: %d epoch(s) of %d steps", event$epochs, event$steps)),
      batch = message(sprintf("  epoch %d/%d  step %d/%d  loss %.4f  elapsed %s  ETA %s",
                              event$epoch, event$epochs, event$step, event$steps, event$loss,
                              format_seconds(event$elapsed), format_seconds(event$eta))),
      epoch = message(sprintf("Epoch %d/%d done in %s: %s", event$epoch, event$epochs,
                              format_seconds(event$seconds), format_metrics(event))),
      NULL
    )
    invisible(NULL)
  }
}
