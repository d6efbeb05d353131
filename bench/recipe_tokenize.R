# The article's tokenization, step 6 of the recipe (DESIGN.md section 5): one keras-bert Tokenizer$encode()
# call per row in an R loop, appending to R lists, then do.call(cbind, ...) and t() into matrices padded to
# seq_len. Kept apart so that both the tokenization and the recipe parts use the same code.
recipe_tokenizer <- function() {
  keras_bert <- reticulate::import("keras_bert")
  vocab <- bench_core()$tokenizer()$vocab_path # nolint: object_usage_linter. (bench_core() is in common.R)
  keras_bert$Tokenizer(keras_bert$load_vocabulary(as.character(vocab$as_posix())))
}

recipe_tokenize <- function(tokenizer, texts, seq_len) {
  indices <- list()
  segments <- list()
  indices_tok <- segments_tok <- NULL # filled by zeallot's %<-%
  for (i in seq_along(texts)) {
    c(indices_tok, segments_tok) %<-% tokenizer$encode(texts[i], max_len = seq_len)
    indices <- append(indices, list(as.matrix(indices_tok)))
    segments <- append(segments, list(as.matrix(segments_tok)))
  }
  list(token = t(do.call(cbind, indices)), segment = t(do.call(cbind, segments)))
}
