# Part (a): tokenization rows/s. The article's per-row R loop vs bert_tokenize() on the 4,000 training reviews,
# and bert_tokenize() from R vs the Python core alone on 100,000 texts.
args <- commandArgs(trailingOnly = TRUE)
source(file.path(args[[1]], "common.R"))
source(file.path(args[[1]], "recipe_tokenize.R"))
out <- args[[2]]

data <- bench_data()
texts <- data$train$review
seq_len <- bench_settings$seq_len
core <- bench_core()
invisible(bert_tokenize(texts[1:10], seq_len = seq_len, verbose = FALSE))  # load the tokenizer once

tokenizer <- recipe_tokenizer()
loop <- timed(function() recipe_tokenize(tokenizer, texts, seq_len), reps = 3)
ours <- timed(function() bert_tokenize(texts, seq_len = seq_len, verbose = FALSE), reps = 5)

# the same rows? (keras-bert's Tokenizer differs from Google's WordPiece on words it cannot split)
reference <- recipe_tokenize(tokenizer, texts, seq_len)$token
mine <- bert_tokenize(texts, seq_len = seq_len, verbose = FALSE)$token
same_rows <- mean(vapply(seq_along(texts), function(i) identical(as.integer(reference[i, ]), mine[i, ]),
                         logical(1)))

# 100,000 texts: the training and test reviews repeated
big <- rep(c(data$train$review, data$test$review), length.out = 100000L)
from_r <- timed(function() bert_tokenize(big, seq_len = seq_len, verbose = FALSE), reps = 3)
py_tokenizer <- reticulate::r_to_py(core$tokenizer())
py_texts <- reticulate::r_to_py(as.list(big))
encode <- reticulate::py_get_attr(py_tokenizer, "encode")
python_alone <- timed(function() reticulate::py_call(encode, py_texts, seq_len), reps = 3)

write_part(list(
  rows = length(texts),
  r_loop_rows_per_s = length(texts) / loop$median_s, r_loop_runs_s = loop$runs_s,
  bert_tokenize_rows_per_s = length(texts) / ours$median_s, bert_tokenize_runs_s = ours$runs_s,
  speedup = loop$median_s / ours$median_s,
  rows_identical_to_r_loop = same_rows,
  rows_100k = length(big),
  from_r_100k_s = from_r$median_s, from_r_100k_runs_s = from_r$runs_s,
  python_core_100k_s = python_alone$median_s, python_core_100k_runs_s = python_alone$runs_s,
  r_over_python = from_r$median_s / python_alone$median_s
), out)
