#' Tokenize texts with a BERT vocabulary
#'
#' WordPiece tokenization (the Rust `tokenizers` package, matching Google's reference tokenizer) of a
#' whole vector at once, cut (see `truncation`) and padded to `seq_len`: `[CLS] text [SEP]`, or
#' `[CLS] text [SEP] pair [SEP]` when `text_pair` is given.
#'
#' @param texts A character vector.
#' @param pretrained `NULL` for the embedded default model's vocabulary, or a BERT model directory.
#' @param seq_len Length of every row.
#' @param text_pair Optional second texts (same length as `texts`), encoded as segment 1.
#' @param truncation,head_tokens Which tokens of a text longer than `seq_len` are kept: `"head"`, `"tail"` or
#'   `"head_tail"` (the first `head_tokens`, by default a quarter of the window, and the last ones); see
#'   [bert_train()].
#' @param verbose Show a progress bar when tokenizing takes more than a few seconds.
#' @return A list of two integer matrices with one row per text and `seq_len` columns: `token` (ids, 0 is
#'   padding) and `segment` (0 for the first text, 1 for the second).
#' @examples
#' \dontrun{
#' bert_tokenize(c("I love this tea", "Not for me"), seq_len = 16)
#' }
#' @export
bert_tokenize <- function(texts, pretrained = NULL, seq_len = 128L, text_pair = NULL, verbose = interactive(),
                          truncation = "head", head_tokens = NULL) {
  texts <- as_texts(texts, "`texts`")
  seq_len <- as_whole_number(seq_len, "seq_len")
  args <- core_args(pretrained = pretrained, truncation = truncation, head_tokens = head_tokens)
  text_pair <- pair_texts(text_pair, length(texts), "`texts`")
  tokenizer <- call_core(bertr_core()$tokenizer(args$pretrained))
  token <- segment <- NULL
  reporter <- if (isTRUE(verbose)) progress_reporter() else NULL
  c(token, segment) %<-% call_core(tokenizer$encode(as.list(texts), seq_len, pairs = text_pair,
                                                    report = reporter, truncation = args$truncation,
                                                    head_tokens = args$head_tokens)$as_tuple())
  list(token = token, segment = segment)
}
