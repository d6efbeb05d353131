#' Serve a fitted model over HTTP
#'
#' `bert_serve()` answers predictions over HTTP with [plumber](https://www.rplumber.io/): `POST /predict` takes
#' JSON texts and returns what [predict()] returns for them, in their order. `bert_api()` builds the same API as a
#' plumber router without running it (to inspect it, mount it in a larger API, or run it yourself with
#' `plumber::pr_run()`; the early refusal of bodies larger than `max_body_bytes`, before they are read, is
#' `bert_serve()`'s).
#'
#' Routes:
#' * `POST /predict`: a JSON object `{"texts": ["...", ...]}` (and `"pairs": [...]`, one per text, for a model
#'   trained on text pairs; optionally `"threshold"`: a number, or one per label as an array or an object named by
#'   label, as [predict()]'s `threshold`). The answer is `{"task", "labels", "n", "predictions"}` with one
#'   prediction per text, in the order of `texts`: `prediction` (the class as text for binary and multi-class
#'   models, `true`/`false` for a soft label, an object of `true`/`false` per label for multi-label models, the
#'   value for regression; decided by [predict()]'s `type = "class"`, at the model's threshold unless
#'   `threshold` is given) and `probabilities` (per class or label, from [predict()]'s `type = "prob"`; for soft
#'   labels `probability`). An empty `texts` array gives no predictions.
#' * `GET /health`: `{"status": "ok", "task", "uptime_seconds", "bertr"}`; never needs the token.
#' * `GET /model`: the model card, [bert_model_card()] (computed once, when the API is built).
#'
#' Every refusal is a JSON object `{"error": "<what is wrong>"}`: 400 (the body is not JSON, not UTF-8, or not a
#' JSON object), 401 (a token is set and the request lacks `Authorization: Bearer <token>` or has another), 404
#' (no such route), 405 (a route asked with the wrong method; the `Allow` header names the right one), 411 (a
#' body sent without a `Content-Length`, refused by `bert_serve()`), 413 (a body over `max_body_bytes`, more
#' than `max_texts` texts, a text over `max_text_chars`), 422 (`texts` missing, not an array, or holding
#' something other than non-empty strings; `pairs` missing for a pair model, given for a single-text model, or
#' of another length; an unknown field; a `threshold` the model refuses). Any other failure is a 500 whose body
#' says only that; the error itself goes to the server's standard error.
#'
#' The server is single-threaded (one R process): requests are answered one after the other, each as one batch.
#'
#' @param model A `bert_classifier` from [bert_train()] or [bert_load()], or the path of a directory written by
#'   [bert_save()] (read with [bert_load()]).
#' @param host The address to listen on: loopback (`"127.0.0.1"`) by default, so only this machine can ask.
#'   Any other address (e.g. `"0.0.0.0"`) opens the model to the network and gives a warning; set a `token`
#'   and put a TLS proxy in front then.
#' @param port The TCP port.
#' @param token A secret: when not empty, every route but `/health` requires the header
#'   `Authorization: Bearer <token>` (compared in constant time). By default the environment variable
#'   `BERTR_API_TOKEN`, else no token.
#' @param max_texts The most texts one request may hold (100 by default: one batch of prediction each).
#' @param max_body_bytes The largest request body accepted, in bytes (1 MiB by default).
#' @param max_text_chars The longest text accepted, in characters (10,000 by default: about 2,000 tokens,
#'   already more than a model with `long_text = "truncate"` reads).
#' @param quiet Do not print the address and routes at start.
#' @return `bert_api()`: a plumber router (a `Plumber` object). `bert_serve()` runs until interrupted and
#'   returns nothing.
#' @examples
#' \dontrun{
#' fit <- bert_train(training_data, "review", "score")
#' bert_save(fit, "review-model")
#' bert_serve("review-model", port = 8000)
#' # then POST {"texts": ["Great coffee!"]} to http://127.0.0.1:8000/predict
#' }
#' @export
bert_serve <- function(model, host = "127.0.0.1", port = 8000, token = Sys.getenv("BERTR_API_TOKEN", ""),
                       max_texts = 100, max_body_bytes = 2^20, max_text_chars = 10000, quiet = FALSE) {
  require_package("httpuv", "bert_serve()")
  if (!is.character(host) || length(host) != 1 || is.na(host) || !nzchar(host)) abort("`host` must be an address.")
  if (!is.numeric(port) || length(port) != 1 || is.na(port) || port != round(port) || port < 1 || port > 65535) {
    abort("`port` must be a whole number between 1 and 65535.")
  }
  if (is.character(model) && length(model) == 1 && !is.na(model)) model <- bert_load(model)
  api <- bert_api(model, token = token, max_texts = max_texts, max_body_bytes = max_body_bytes,
                  max_text_chars = max_text_chars)
  if (!is_loopback(host)) {
    # printed now, not when the call ends (never, for a server started by Rscript)
    old <- options(warn = max(1, getOption("warn")))
    on.exit(options(old), add = TRUE)
    warning(bertr_warning(paste0(
      "bert_serve() listens on ", host, ", not on a loopback address: any machine that can reach this one can ",
      "ask the model", if (!nzchar(token)) " (and no `token` is set)", ". Set a `token` and put a TLS proxy in ",
      "front, or use host = \"127.0.0.1\".")))
  }
  limit <- whole_number(max_body_bytes, "max_body_bytes")
  # httpuv calls onHeaders before it reads a body: one announced as too large is refused unread
  app <- list(call = function(req) api$call(req), onHeaders = function(req) refuse_early(req, limit))
  if (!isTRUE(quiet)) {
    message(sprintf("bertr: serving a %s model at http://%s:%d (POST /predict, GET /health, GET /model)%s; ",
                    model$task, if (grepl(":", host, fixed = TRUE)) paste0("[", host, "]") else host,
                    as.integer(port), if (nzchar(token)) " with a bearer token" else ""),
            "interrupt to stop.")
  }
  httpuv::runServer(host, as.integer(port), app)
  invisible(NULL)
}

#' @rdname bert_serve
#' @export
bert_api <- function(model, token = Sys.getenv("BERTR_API_TOKEN", ""), max_texts = 100, max_body_bytes = 2^20,
                     max_text_chars = 10000) {
  require_package("plumber", "bert_api()")
  require_package("jsonlite", "bert_api()")
  if (is.character(model) && length(model) == 1 && !is.na(model)) model <- bert_load(model)
  if (!inherits(model, "bert_classifier")) {
    abort("`model` must be a bert_classifier from bert_train() or bert_load(), or a bert_save() directory.")
  }
  if (!is.character(token) || length(token) != 1 || is.na(token)) abort("`token` must be one string (\"\": none).")
  if (nzchar(token) && !grepl("^[A-Za-z0-9._~+/=-]+$", token)) {
    abort("`token` may hold only letters, digits and - . _ ~ + / = (what an HTTP bearer token can carry), no ",
          "spaces or other characters: a client could never send it.")
  }
  limits <- list(max_texts = whole_number(max_texts, "max_texts"),
                 max_body_bytes = whole_number(max_body_bytes, "max_body_bytes"),
                 max_text_chars = whole_number(max_text_chars, "max_text_chars"))
  card <- bert_model_card(model)
  started <- Sys.time()
  health <- function(req, res) {
    uptime <- round(as.numeric(difftime(Sys.time(), started, units = "secs")), 3)
    json_response(res, 200L, list(status = "ok", task = model$task, uptime_seconds = uptime,
                                  bertr = as.character(utils::packageVersion("bertr"))))
  }
  predictions <- function(req, res) {
    input <- request_input(req, model, limits)
    json_response(res, 200L, predicted(model, input$newdata, input$threshold))
  }
  pr <- plumber::pr()
  pr <- plumber::pr_filter(pr, "bearer_token", token_filter(token))
  pr <- plumber::pr_post(pr, "/predict", guarded(predictions), parsers = no_parsers())
  pr <- plumber::pr_get(pr, "/health", guarded(health), parsers = no_parsers())
  model_card <- function(req, res) json_response(res, 200L, card)
  pr <- plumber::pr_get(pr, "/model", guarded(model_card), parsers = no_parsers())
  routes <- c("/predict" = "POST", "/health" = "GET", "/model" = "GET")
  for (path in names(routes)) {
    wrong <- setdiff(c("GET", "POST", "PUT", "DELETE", "PATCH"), routes[[path]])
    pr <- plumber::pr_handle(pr, wrong, path, method_not_allowed(path, routes[[path]]), parsers = no_parsers())
  }
  # the handlers answer with the response itself; what reaches a serializer is the JSON text of an error
  pr <- plumber::pr_set_serializer(pr, plumber::serializer_content_type("application/json", function(x) x))
  pr <- plumber::pr_set_404(pr, function(req, res) {
    http_refusal(res, 404L, sprintf("No route %s %s: the routes are POST /predict, GET /health and GET /model.",
                                    req$REQUEST_METHOD, req$PATH_INFO))
  })
  pr <- plumber::pr_set_error(pr, function(req, res, err) {
    internal_failure(res, err)
    res$body
  })
  pr
}

# The request as predict()'s arguments: `newdata` (texts, or a data frame of texts and pairs) and `threshold`,
# after the checks that a bad request fails (each an http_error naming the field and item).
request_input <- function(req, model, limits) {
  body <- request_json(req, limits$max_body_bytes)
  unknown <- setdiff(names(body), c("texts", "pairs", "threshold"))
  if (length(unknown)) {
    http_error(422L, "Unknown field(s) ", paste0("'", unknown, "'", collapse = ", "),
               ": the fields are 'texts', 'pairs' (for pair models) and 'threshold'.")
  }
  if (!"texts" %in% names(body)) {
    http_error(422L, "The request has no 'texts': send {\"texts\": [\"a text\", ...]}.")
  }
  texts <- request_texts(body[["texts"]], "texts", limits)
  newdata <- texts
  if (!is.null(model$text_pair)) {
    if (!"pairs" %in% names(body)) {
      http_error(422L, "This model reads text pairs: give 'pairs', one second text per text.")
    }
    pairs <- request_texts(body[["pairs"]], "pairs", limits)
    if (length(pairs) != length(texts)) {
      http_error(422L, sprintf("'pairs' has %d item(s) but 'texts' has %d: give one pair per text.",
                               length(pairs), length(texts)))
    }
    newdata <- stats::setNames(data.frame(texts, pairs, stringsAsFactors = FALSE), c(model$text, model$text_pair))
  } else if ("pairs" %in% names(body)) {
    http_error(422L, "This model reads single texts: leave out 'pairs'.")
  }
  list(newdata = newdata, threshold = request_threshold(body[["threshold"]]))
}

# The body as a JSON object (a named list), or an http_error: too large, empty, not UTF-8, not JSON, not an object.
request_json <- function(req, max_body_bytes) {
  raw <- req$bodyRaw
  if (length(raw) > max_body_bytes) {
    http_error(413L, sprintf("The body has %s bytes, more than this server's limit of %s (max_body_bytes).",
                             format_count(length(raw)), format_count(max_body_bytes)))
  }
  if (!length(raw)) http_error(400L, "The request has no body: send JSON such as {\"texts\": [\"a text\"]}.")
  text <- if (any(raw == as.raw(0))) NA_character_ else rawToChar(raw)
  if (is.na(text) || !validUTF8(text)) http_error(400L, "The body is not UTF-8 text: send JSON in UTF-8.")
  Encoding(text) <- "UTF-8"
  body <- tryCatch(jsonlite::parse_json(text, simplifyVector = FALSE), error = function(e) {
    http_error(400L, "The body is not valid JSON (", trimws(strsplit(conditionMessage(e), "\n")[[1]][1]), ").")
  })
  if (!is_json_object(body)) {
    http_error(400L, "The body must be a JSON object such as {\"texts\": [\"a text\"]}, not ", json_kind(body), ".")
  }
  body
}

# `value` (a JSON array of non-empty strings) as a character vector, or an http_error naming the item (from 1).
request_texts <- function(value, field, limits) {
  if (!is.list(value) || is_json_object(value)) {
    http_error(422L, sprintf("'%s' must be an array of strings, not %s.", field, json_kind(value)))
  }
  if (length(value) > limits$max_texts) {
    http_error(413L, sprintf("'%s' has %s items, more than this server's limit of %s per request (max_texts).",
                             field, format_count(length(value)), format_count(limits$max_texts)))
  }
  for (i in seq_along(value)) {
    item <- value[[i]]
    if (!is.character(item) || length(item) != 1) {
      http_error(422L, sprintf("'%s' item %d is %s, not a string.", field, i, json_kind(item)))
    }
    if (is_blank(item)) http_error(422L, sprintf("'%s' item %d is empty or only whitespace.", field, i))
    if (nchar(item) > limits$max_text_chars) {
      http_error(413L, sprintf("'%s' item %d has %s characters, more than this server's limit of %s (max_text_chars).",
                               field, i, format_count(nchar(item)), format_count(limits$max_text_chars)))
    }
  }
  as.character(unlist(value))
}

# `threshold` as predict() takes it: NULL, a number, numbers in label order, or numbers named by label.
request_threshold <- function(value) {
  if (is.null(value)) return(NULL)
  numbers <- if (is.list(value)) value else list(value)
  if (!length(numbers) || !all(vapply(numbers, function(x) is.numeric(x) && length(x) == 1, TRUE))) {
    http_error(422L, "'threshold' must be a number, or one per label (an array, or an object named by label).")
  }
  unlist(numbers)
}

# What predict() says of `newdata`, one entry per row in its order: the decision (type = "class", made by the
# core) and the probabilities (type = "prob"), both from one pass of the network, as JSON-ready lists.
predicted <- function(model, newdata, threshold) {
  both <- predict_both(model, newdata, threshold = threshold)
  decided <- both$class
  prob <- if (model$task != "regression") both$prob
  levels <- model$levels
  row <- switch(model$task,
    binary = function(i) {
      list(prediction = as.character(decided[i]), probabilities = stats::setNames(list(1 - prob[i], prob[i]), levels))
    },
    multiclass = function(i) list(prediction = as.character(decided[i]), probabilities = as.list(prob[i, ])),
    multilabel = function(i) list(prediction = as.list(decided[i, ]), probabilities = as.list(prob[i, ])),
    soft = function(i) list(prediction = decided[i], probability = prob[i]),
    function(i) list(prediction = decided[i])
  )
  n <- NROW(decided)
  list(task = model$task, labels = as.list(levels), n = n, predictions = lapply(seq_len(n), row))
}

# A filter refusing every route but /health without the bearer token (when one is set).
#
# Constant time: comparing the given token to the secret with `==` stops at the first differing byte (and at a
# length difference), so the answer's timing would tell an attacker how much of a guess is right. Both are first
# hashed with HMAC-SHA256 under a key drawn at random for this process (so the digests are always 32 bytes,
# whatever the lengths, and cannot be precomputed), then all 32 byte pairs are XORed and the differences ORed
# together, with no early exit.
token_filter <- function(token) {
  if (!nzchar(token)) return(function(req, res) plumber::forward())
  require_package("openssl", "A token in bert_api()")
  key <- openssl::rand_bytes(32)
  expected <- openssl::sha256(charToRaw(token), key = key)
  function(req, res) {
    if (identical(req$PATH_INFO, "/health")) return(plumber::forward())
    header <- req$HTTP_AUTHORIZATION %||% ""
    given <- if (grepl("^[Bb][Ee][Aa][Rr][Ee][Rr] +[^ ]+$", header)) sub("^[^ ]+ +", "", header) else ""
    digest <- openssl::sha256(charToRaw(given), key = key)
    difference <- 0L
    for (i in seq_along(expected)) {
      difference <- bitwOr(difference, bitwXor(as.integer(digest[i]), as.integer(expected[i])))
    }
    if (nzchar(given) && difference == 0L) return(plumber::forward())
    res$setHeader("WWW-Authenticate", "Bearer realm=\"bertr\"")
    http_refusal(res, 401L, if (nzchar(header)) {
      "The bearer token is wrong or malformed: send 'Authorization: Bearer <token>' with this server's token."
    } else {
      "This server needs a token: send the header 'Authorization: Bearer <token>'."
    })
  }
}

method_not_allowed <- function(path, allowed) {
  force(path)
  force(allowed)
  function(req, res) {
    res$setHeader("Allow", allowed)
    http_refusal(res, 405L, sprintf("%s takes %s, not %s.", path, allowed, req$REQUEST_METHOD))
  }
}

# No body parsing by plumber: request_json() reads the raw body, so that a body that is not JSON is a 400 that says
# so (plumber's parsers would fail with a 500). An empty set of parsers, as plumber's make_parser() would return
# it (its "none" parser cannot be used: its content-type pattern "*" is not a valid regular expression).
no_parsers <- function() structure(list(), class = c("plumber_parsed_parsers", "list"))

# A handler whose refusals (http_error, and any bertr_error: the user's input, e.g. a threshold out of range)
# become 4xx JSON answers, and whose other errors become a 500 that shows no traceback.
guarded <- function(handler) {
  function(req, res) {
    tryCatch(handler(req, res),
      bertr_error = function(e) http_refusal(res, e$status %||% 422L, conditionMessage(e)),
      error = function(e) internal_failure(res, e)
    )
  }
}

# A bertr_error with an HTTP status, for the refusals of a request.
http_error <- function(status, ...) {
  condition <- bertr_error(paste0(...))
  condition$status <- status
  stop(condition)
}

http_refusal <- function(res, status, message) json_response(res, status, list(error = message))

internal_failure <- function(res, error) {
  message("bertr: error answering a request: ", conditionMessage(error))
  http_refusal(res, 500L, "Internal server error: the model could not answer this request (see the server's log).")
}

json_response <- function(res, status, value) {
  res$status <- status
  res$setHeader("Content-Type", "application/json")
  res$body <- as.character(jsonlite::toJSON(value, auto_unbox = TRUE, digits = NA, null = "null", na = "null"))
  res
}

# httpuv's early answer (before the body is read): 413 for a body announced larger than the limit, 411 for one
# sent without a length (chunked), whose size cannot be known before it is all read.
refuse_early <- function(req, max_body_bytes) {
  length <- req$CONTENT_LENGTH
  chunked <- !is.null(req$HTTP_TRANSFER_ENCODING) && grepl("chunked", req$HTTP_TRANSFER_ENCODING, ignore.case = TRUE)
  status <- if (chunked) {
    411L
  } else if (length(length) && !is.na(suppressWarnings(as.numeric(length))) && as.numeric(length) > max_body_bytes) {
    413L
  }
  if (is.null(status)) return(NULL)
  message <- if (status == 411L) {
    "Send the body with a Content-Length header (chunked bodies are not accepted)."
  } else {
    sprintf("The body has %s bytes, more than this server's limit of %s (max_body_bytes).",
            format_count(as.numeric(length)), format_count(max_body_bytes))
  }
  list(status = status, headers = list("Content-Type" = "application/json", Connection = "close"),
       body = as.character(jsonlite::toJSON(list(error = message), auto_unbox = TRUE)))
}

# jsonlite::parse_json(simplifyVector = FALSE) reads a JSON object as a named list (`{}` too), an array as an
# unnamed one.
is_json_object <- function(value) is.list(value) && !is.null(names(value))

json_kind <- function(value) {
  if (is.null(value)) return("null")
  if (is.list(value)) return(if (is_json_object(value)) "an object" else "an array")
  if (is.character(value)) return("a string")
  if (is.logical(value)) return("a boolean")
  if (is.numeric(value)) return("a number")
  class(value)[1]
}

# Loopback: the names and addresses that reach only this machine.
is_loopback <- function(host) {
  host %in% c("localhost", "::1", "[::1]") || grepl("^127(\\.[0-9]{1,3}){3}$", host)
}

whole_number <- function(value, name) {
  if (!is.numeric(value) || length(value) != 1 || is.na(value) || value < 1 || value != round(value)) {
    abort("`", name, "` must be a whole number of at least 1.")
  }
  value
}
