# Arguments on their way to the Python core: each argument's conversion is declared once, in `converters`, and
# core_args() applies it by name (the style of keras3's capture_args()). A converter receives the value and the
# argument's name, and returns what the core expects or signals a `bertr_error` naming the argument. The arguments
# in `nullable` may be NULL, which means "the core's own default" (they are left out of the call); NULL for any
# other is an error from its converter. Ranges and choices (seq_len within the model's window, pooling "cls" or
# "mean", ...) are checked once, by the core; here only R types are made into Python ones.

as_whole_number <- function(x, name) {
  if (!is.numeric(x) || length(x) != 1 || !is.finite(x) || x != round(x)) {
    abort("`", name, "` must be a single whole number.")
  }
  as.integer(x)
}

as_number <- function(x, name) {
  if (!is.numeric(x) || length(x) != 1 || is.na(x)) abort("`", name, "` must be a single number.")
  as.numeric(x)
}

as_flag <- function(x, name) {
  if (!is.logical(x) || length(x) != 1 || is.na(x)) abort("`", name, "` must be TRUE or FALSE.")
  x
}

as_string <- function(x, name) {
  if (!is.character(x) || length(x) != 1 || is.na(x)) abort("`", name, "` must be one string.")
  x
}

as_path <- function(x, name) {
  if (!is.character(x) || length(x) != 1 || is.na(x) || !nzchar(x)) abort("`", name, "` must be one path.")
  path.expand(x)
}

as_pooling <- function(x, name) {
  if (!(is.character(x) && length(x) == 1 && !is.na(x))) {
    abort("`", name, "` must be \"cls\", \"mean\" or NULL (the pretrained model's own).")
  }
  x
}

# TRUE/FALSE, or a named list of early-stopping settings (monitor, patience, min_delta, restore_best).
as_early_stopping <- function(x, name) {
  if (is.logical(x) && length(x) == 1 && !is.na(x)) return(x)
  if (is.list(x) && length(x) && !is.null(names(x)) && all(nzchar(names(x)))) {
    if (!is.null(x$patience)) x$patience <- as_whole_number(x$patience, paste0(name, "$patience"))
    return(x)
  }
  abort("`", name, "` must be TRUE, FALSE or a named list such as list(monitor = \"val_auc\", patience = 1).")
}

# "balanced", or a named numeric vector with one weight per class (a dict for the core).
as_class_weight <- function(x, name) {
  if (is.character(x) && length(x) == 1) return(x)
  if (is.numeric(x) && !is.null(names(x)) && all(nzchar(names(x)))) return(as.list(x))
  abort("`", name, "` must be \"balanced\" or a named numeric vector, one weight per class.")
}

# "auto", "mirrored", "multi_worker", or a tf.distribute.Strategy made in Python (passed as it is).
as_strategy <- function(x, name) {
  if (inherits(x, "python.builtin.object")) return(x)
  if (is.character(x) && length(x) == 1 && !is.na(x)) return(x)
  abort("`", name, "` must be NULL, \"auto\", \"mirrored\", \"multi_worker\" or a tf.distribute.Strategy.")
}

# TensorFlow device names such as c("/gpu:0", "/gpu:1"): a list, so that one name stays a list for the core.
as_devices <- function(x, name) {
  if (!is.character(x) || !length(x) || anyNA(x)) {
    abort("`", name, "` must be device names such as c(\"/gpu:0\", \"/gpu:1\").")
  }
  as.list(x)
}

# A decision threshold: one probability, or one per label (a list, so that the core receives a sequence).
as_threshold <- function(x, name) {
  if (!is.numeric(x) || !length(x) || anyNA(x)) {
    abort("`", name, "` must be a probability (or, for several labels, one per label).")
  }
  if (length(x) == 1) as.numeric(x) else as.list(unname(as.numeric(x)))
}

# "f1", "youden", "accuracy", or a target: c(precision = 0.9) or c(recall = 0.8) (a dict for the core).
as_metric <- function(x, name) {
  if (is.character(x) && length(x) == 1 && !is.na(x)) return(x)
  if (is.numeric(x) && length(x) == 1 && !is.null(names(x)) && !is.na(x)) return(as.list(x))
  abort("`", name, "` must be \"f1\", \"youden\", \"accuracy\", c(precision = p) or c(recall = r).")
}

converters <- list(
  # the estimator's settings (bertr.BertClassifier)
  pretrained = as_path, task = as_string, seq_len = as_whole_number, epochs = as_whole_number,
  batch_size = as_whole_number, learning_rate = as_number, validation_split = as_number, seed = as_whole_number,
  warmup_proportion = as_number, weight_decay = as_number, dropout = as_number, pooling = as_pooling,
  threads = as_whole_number, early_stopping = as_early_stopping, strategy = as_strategy, devices = as_devices,
  precision = as_string, truncation = as_string, head_tokens = as_whole_number, long_text = as_string,
  stride = as_whole_number, window_pooling = as_string,
  # fit(), predict(), embed(), save(), choose_threshold(), with_temperature()
  class_weight = as_class_weight, checkpoint_dir = as_path, checkpoint_every = as_whole_number, resume = as_flag,
  normalize = as_flag, overwrite = as_flag, path = as_path, threshold = as_threshold, metric = as_metric,
  temperature = as_number,
  # the explanations (integrated gradients)
  steps = as_whole_number, baseline = as_string
)

# The arguments whose NULL is documented to mean the core's default (the pretrained model's own, none, ...).
nullable <- c("pretrained", "task", "dropout", "pooling", "threads", "early_stopping", "class_weight",
              "checkpoint_dir", "checkpoint_every", "batch_size", "strategy", "devices", "head_tokens", "stride",
              "threshold", "long_text", "window_pooling", "temperature")

# The named arguments, each converted by its converter, NULLs of `nullable` ones left out, as a list for do.call().
core_args <- function(...) {
  args <- list(...)
  args <- args[!(names(args) %in% nullable & vapply(args, is.null, logical(1)))]
  for (name in names(args)) {
    if (is.null(converters[[name]])) stop("internal: no converter for argument `", name, "`")
    args[name] <- list(converters[[name]](args[[name]], name))
  }
  args
}
