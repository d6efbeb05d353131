# The argument table (R/arguments.R): each argument converted once, NULL only where it means the core's default,
# and the defaults in R's signatures equal to the core's (the core owns them; R shows them in its docs).

test_that("defaults in R's signatures are the core's defaults", {
  skip_if_no_bertr()
  core <- bertr:::bertr_core()
  inspect <- reticulate::import("inspect")
  python_defaults <- function(fn) {
    parameters <- reticulate::iterate(inspect$signature(fn)$parameters$values())
    values <- lapply(parameters, function(p) p$default)
    names(values) <- vapply(parameters, function(p) p$name, character(1))
    values
  }
  r_defaults <- function(fn) lapply(formals(fn), function(x) if (is.symbol(x) || is.call(x)) x else eval(x))
  compare <- function(r_fn, py_fn) {
    ours <- r_defaults(r_fn)
    theirs <- python_defaults(py_fn)
    shared <- intersect(names(ours), names(theirs))
    expect_gt(length(shared), 2)
    for (name in shared) {
      if (is.null(ours[[name]]) && name %in% bertr:::nullable) next # NULL: left out, so the core's default applies
      expect_equal(ours[[name]], theirs[[name]], ignore_attr = TRUE, info = name)
    }
  }
  compare(bertr::bert_train, core$BertClassifier$`__init__`)
  compare(bertr:::bert_embed.default, core$embed)
  compare(bertr::bert_threshold, core$BertClassifier$choose_threshold)
  compare(bertr::bert_explain, core$BertClassifier$explain)
  # step_bert_embed() passes NULL settings on as absent (bert_embed()'s, hence the core's, defaults apply)
  step <- r_defaults(bertr::step_bert_embed)
  expect_equal(step$normalize, python_defaults(core$embed)$normalize)
  expect_true(all(vapply(step[c("pooling", "seq_len", "batch_size")], is.null, logical(1))))
  encode <- python_defaults(core$WordPieceTokenizer$encode)
  expect_equal(formals(bertr::bert_tokenize)$truncation, encode$truncation)
})

test_that("NULL means the core's default only where documented; elsewhere it is an error naming the argument", {
  expect_equal(bertr:::core_args(pooling = NULL, batch_size = NULL, seq_len = 16), list(seq_len = 16L))
  for (name in c("seq_len", "epochs", "learning_rate", "resume", "normalize", "overwrite", "path")) {
    args <- stats::setNames(list(NULL), name)
    err <- tryCatch(do.call(bertr:::core_args, args), error = identity)
    expect_s3_class(err, "bertr_error")
    expect_match(conditionMessage(err), paste0("^`", name, "` must be"))
  }
  expect_error(bertr:::core_args(no_such_argument = 1), "no converter")
})
