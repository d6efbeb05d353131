# bert_serve() / bert_api(): real servers (Rscript, plumber, the core, TensorFlow) on 127.0.0.1 serving tiny BERTs
# fitted here, asked over HTTP with curl: answers equal predict()'s, every refusal's status and message, the token,
# loopback by default, and the load and fault test (bench/serve_load.py: 4 clients, a restart, nothing lost).

skip_if_no_serving <- function() {
  for (package in c("plumber", "httpuv", "openssl", "jsonlite", "curl", "processx")) skip_if_not_installed(package)
  skip_if_no_bertr()
}

serving <- new.env()

# Two tiny models, fitted and saved once for this file: a binary classifier (labels bad / good) and a regression
# on text pairs.
serve_models <- function() {
  if (!is.null(serving$binary)) return(serving)
  df <- toy_reviews(4)
  pretrained <- tiny_bert()
  serving$texts <- unique(df$review)
  serving$binary <- bert_train(df, "review", "score", pretrained = pretrained, seq_len = 16L, epochs = 2L,
                               batch_size = 8L, verbose = FALSE)
  serving$binary_dir <- bert_save(serving$binary, file.path(tempfile("serve-"), "binary"))
  df$answer <- rev(df$review)
  df$stars <- seq_len(nrow(df)) / 10
  serving$pairs <- bert_train(df, "review", "stars", text_pair = "answer", task = "regression", pretrained = pretrained,
                              seq_len = 16L, epochs = 1L, batch_size = 8L, verbose = FALSE)
  serving$pairs_dir <- bert_save(serving$pairs, file.path(tempfile("serve-"), "pairs"))
  serving
}

# `Rscript -e 'bertr::bert_serve(...)'` in the background (this R's library path, the token in BERTR_API_TOKEN),
# once /health answers.
start_server <- function(name, path, token = "") {
  if (!is.null(serving[[name]])) return(serving[[name]])
  port <- free_ports(1)
  log <- tempfile(paste0("serve-", name, "-"), fileext = ".log")
  process <- processx::process$new(
    file.path(R.home("bin"), "Rscript"), c("-e", sprintf("bertr::bert_serve(%s, port = %d)", deparse(path), port)),
    env = c("current", R_LIBS = paste(.libPaths(), collapse = .Platform$path.sep), BERTR_API_TOKEN = token),
    stdout = log, stderr = "2>&1", cleanup = TRUE
  )
  started <- Sys.time()
  repeat {
    health <- tryCatch(http(port, "GET", "/health"), error = function(e) NULL)
    if (!is.null(health) && health$status == 200) break
    if (!process$is_alive() || difftime(Sys.time(), started, units = "secs") > 120) {
      process$kill()
      stop("The server did not start:\n", paste(readLines(log), collapse = "\n"))
    }
    Sys.sleep(0.2)
  }
  serving[[name]] <- list(process = process, port = port, log = log, token = token)
  serving[[name]]
}

# One HTTP request to 127.0.0.1:port: its status, headers and body (parsed when JSON).
http <- function(port, method, path, body = NULL, token = NULL, headers = list()) {
  handle <- curl::new_handle()
  curl::handle_setopt(handle, customrequest = method)
  if (!is.null(body)) {
    if (!is.character(body)) body <- jsonlite::toJSON(body, auto_unbox = TRUE, digits = NA)
    curl::handle_setopt(handle, postfields = as.character(body))
  }
  headers <- c(list("Content-Type" = "application/json", Expect = ""), headers,
               if (!is.null(token)) list(Authorization = paste("Bearer", token)))
  do.call(curl::handle_setheaders, c(list(handle), headers))
  response <- curl::curl_fetch_memory(sprintf("http://127.0.0.1:%d%s", port, path), handle = handle)
  text <- rawToChar(response$content)
  Encoding(text) <- "UTF-8"
  list(status = response$status_code, headers = curl::parse_headers_list(response$headers), text = text,
       json = tryCatch(jsonlite::parse_json(text), error = function(e) NULL))
}

binary_server <- function() {
  models <- serve_models()
  start_server("binary_server", models$binary_dir, token = "tiny-secret")
}

predict_binary <- function(texts, ...) {
  http(binary_server()$port, "POST", "/predict", list(texts = as.list(texts), ...), token = "tiny-secret")
}

expect_refused <- function(response, status, pattern) {
  expect_equal(response$status, status)
  expect_match(response$headers[["content-type"]], "application/json", fixed = TRUE)
  expect_type(response$json$error, "character")
  expect_match(response$json$error, pattern)
  expect_false(grepl("Traceback|Error in|stop\\(", response$text))
}

test_that("bert_api() builds a plumber router with the three routes; bad arguments are bertr_errors", {
  skip_if_no_serving()
  models <- serve_models()
  api <- bert_api(models$binary)
  expect_s3_class(api, "Plumber")
  routes <- unlist(lapply(api$endpoints[["__no-preempt__"]], function(e) paste(e$verbs, e$path)))
  expect_true(all(c("POST /predict", "GET /health", "GET /model") %in% routes))
  expect_bertr_error(bert_api("no/such/model"), "no/such/model")
  expect_bertr_error(bert_api(42), "bert_classifier")
  expect_bertr_error(bert_api(models$binary, max_texts = 0), "max_texts")
  expect_bertr_error(bert_api(models$binary, token = NA_character_), "token")
  expect_bertr_error(bert_api(models$binary, token = "two words"), "may hold only letters, digits")
  expect_bertr_error(bert_serve(models$binary, port = 70000), "port")
})

test_that("predictions over HTTP equal predict()'s, in the order sent, with the core's decisions", {
  skip_if_no_serving()
  fit <- serve_models()$binary
  texts <- rev(serve_models()$texts)
  response <- predict_binary(texts)
  expect_equal(response$status, 200)
  body <- response$json
  expect_equal(body$task, "binary")
  expect_equal(unlist(body$labels), c("bad", "good"))
  expect_equal(body$n, length(texts))
  got_good <- vapply(body$predictions, function(p) p$probabilities$good, 1)
  got_bad <- vapply(body$predictions, function(p) p$probabilities$bad, 1)
  expect_equal(got_good, predict(fit, texts), tolerance = 1e-12)
  expect_equal(got_bad, 1 - predict(fit, texts), tolerance = 1e-12)
  expect_identical(vapply(body$predictions, function(p) p$prediction, ""),
                   as.character(predict(fit, texts, type = "class")))
  # the same texts in another order come back in that order
  shuffled <- texts[c(3, 1, 2, seq_along(texts)[-(1:3)])]
  again <- predict_binary(shuffled)$json
  expect_equal(vapply(again$predictions, function(p) p$probabilities$good, 1), got_good[match(shuffled, texts)])
  # a threshold is the core's decision at that threshold
  cut <- stats::median(got_good)
  at <- predict_binary(texts, threshold = cut)$json
  expect_identical(vapply(at$predictions, function(p) p$prediction, ""),
                   as.character(predict(fit, texts, type = "class", threshold = cut)))
  expect_true(length(unique(vapply(at$predictions, function(p) p$prediction, ""))) == 2)
})

test_that("an empty list of texts gives an empty answer", {
  skip_if_no_serving()
  response <- predict_binary(character(0))
  expect_equal(response$status, 200)
  expect_equal(response$json$n, 0)
  expect_length(response$json$predictions, 0)
  expect_match(response$text, "\"predictions\":[]", fixed = TRUE)
})

test_that("bad requests get their 4xx status and a JSON error naming the problem", {
  skip_if_no_serving()
  server <- binary_server()
  ask <- function(body, ...) http(server$port, "POST", "/predict", body, token = "tiny-secret", ...)
  expect_refused(ask("{\"texts\": [\"great"), 400, "not valid JSON")
  expect_refused(ask("[\"great coffee\"]"), 400, "must be a JSON object.*not an array")
  expect_refused(ask("\"great coffee\""), 400, "must be a JSON object.*not a string")
  expect_refused(ask(NULL), 400, "no body")
  expect_refused(ask("{}"), 422, "no 'texts'")
  expect_refused(ask("{\"text\": [\"great coffee\"]}"), 422, "Unknown field.*'text'")
  expect_refused(ask("{\"texts\": [\"great coffee\", 42]}"), 422, "'texts' item 2 is a number, not a string")
  expect_refused(ask("{\"texts\": [null]}"), 422, "'texts' item 1 is null")
  expect_refused(ask("{\"texts\": [\"great coffee\", \"\"]}"), 422, "'texts' item 2 is empty")
  expect_refused(ask("{\"texts\": [\"great coffee\", [\"tea\"]]}"), 422, "item 2 is an array")
  expect_refused(ask("{\"texts\": \"great coffee\"}"), 422, "'texts' must be an array of strings, not a string")
  expect_refused(ask("{\"texts\": null}"), 422, "'texts' must be an array of strings, not null")
  expect_refused(ask("{\"texts\": {\"a\": \"great coffee\"}}"), 422, "not an object")
  expect_refused(ask("{\"texts\": [\"great coffee\"], \"pairs\": [\"tea\"]}"), 422, "single texts: leave out 'pairs'")
  expect_refused(ask("{\"texts\": [\"great coffee\"], \"threshold\": \"high\"}"), 422, "'threshold' must be a number")
  expect_refused(ask("{\"texts\": [\"great coffee\"], \"threshold\": 2}"), 422, "threshold")
  too_many <- list(texts = as.list(rep("great coffee", 101)))
  expect_refused(ask(too_many), 413, "'texts' has 101 items, more than this server's limit of 100")
  expect_refused(ask(list(texts = list(strrep("tea ", 3000)))), 413, "item 1 has 12,000 characters.*max_text_chars")
  expect_refused(ask(list(texts = list(strrep("x", 2^20)))), 413, "more than this server's limit of 1,048,576")
  expect_refused(ask(paste0("{\"texts\": [\"caf", rawToChar(as.raw(0xe9)), "\"]}")), 400, "not UTF-8")
  expect_refused(http(server$port, "GET", "/nowhere", token = "tiny-secret"), 404, "No route GET /nowhere")
  wrong <- http(server$port, "GET", "/predict", token = "tiny-secret")
  expect_refused(wrong, 405, "/predict takes POST, not GET")
  expect_equal(wrong$headers$allow, "POST")
  expect_refused(http(server$port, "DELETE", "/model", token = "tiny-secret"), 405, "/model takes GET, not DELETE")
  # a body without a length (chunked) is refused before it is read
  socket <- socketConnection("127.0.0.1", server$port, blocking = TRUE, open = "r+b", timeout = 30)
  on.exit(close(socket))
  writeLines(c("POST /predict HTTP/1.1", "Host: 127.0.0.1", "Authorization: Bearer tiny-secret",
               "Transfer-Encoding: chunked", "", "5", "hello", "0", "", ""), socket, sep = "\r\n")
  expect_match(readLines(socket, n = 1), "^HTTP/1.1 411")
  # the server is still there
  expect_equal(predict_binary("great coffee")$status, 200)
})

test_that("with a token, every route but /health needs it, compared exactly", {
  skip_if_no_serving()
  port <- binary_server()$port
  health <- http(port, "GET", "/health")
  expect_equal(health$status, 200)
  expect_equal(health$json$status, "ok")
  expect_equal(health$json$task, "binary")
  expect_gt(health$json$uptime_seconds, 0)
  missing <- http(port, "GET", "/model")
  expect_refused(missing, 401, "needs a token.*Authorization: Bearer")
  expect_match(missing$headers[["www-authenticate"]], "^Bearer")
  expect_refused(http(port, "GET", "/model", token = "tiny-secreT"), 401, "token is wrong")
  expect_refused(http(port, "GET", "/model", token = "tiny-secret-and-more"), 401, "token is wrong")
  expect_refused(http(port, "GET", "/model", headers = list(Authorization = "tiny-secret")), 401, "wrong or malformed")
  expect_refused(http(port, "POST", "/predict", list(texts = list("great coffee"))), 401, "needs a token")
  expect_refused(http(port, "GET", "/nowhere"), 401, "needs a token")
  scheme <- http(port, "GET", "/model", headers = list(Authorization = "bearer tiny-secret")) # case-insensitive
  expect_equal(scheme$status, 200)
  card <- http(port, "GET", "/model", token = "tiny-secret")
  expect_equal(card$status, 200)
  expected <- bert_model_card(serve_models()$binary)
  expect_equal(card$json$format, "bertr model card")
  expect_equal(card$json$task, expected$task)
  expect_equal(unlist(card$json$labels), unlist(expected$labels))
  expect_equal(card$json$input$seq_len, expected$input$seq_len)
  expect_equal(card$json$threshold, expected$threshold)
  expect_equal(card$json$training$metrics, expected$training$metrics, tolerance = 1e-12)
})

test_that("a pair model takes `pairs`, one per text; regression answers the values", {
  skip_if_no_serving()
  models <- serve_models()
  port <- start_server("pairs_server", models$pairs_dir)$port
  texts <- models$texts
  pairs <- rev(texts)
  response <- http(port, "POST", "/predict", list(texts = as.list(texts), pairs = as.list(pairs)))
  expect_equal(response$status, 200)
  expect_equal(response$json$task, "regression")
  expected <- predict(models$pairs, data.frame(review = texts, answer = pairs))
  expect_equal(vapply(response$json$predictions, function(p) p$prediction, 1), expected, tolerance = 1e-12)
  expect_null(response$json$predictions[[1]]$probabilities)
  expect_refused(http(port, "POST", "/predict", list(texts = as.list(texts))), 422, "reads text pairs: give 'pairs'")
  expect_refused(http(port, "POST", "/predict", list(texts = as.list(texts), pairs = as.list(pairs[-1]))), 422,
                 sprintf("'pairs' has %d item.*'texts' has %d", length(texts) - 1, length(texts)))
  expect_refused(http(port, "POST", "/predict", list(texts = list("tea"), pairs = list(""))), 422,
                 "'pairs' item 1 is empty")
  empty <- http(port, "POST", "/predict", "{\"texts\": [], \"pairs\": []}")
  expect_equal(empty$status, 200)
  expect_length(empty$json$predictions, 0)
  # no token set: /model is open
  expect_equal(http(port, "GET", "/model")$status, 200)
})

test_that("the server binds only the loopback address by default, and warns when told to listen elsewhere", {
  skip_if_no_serving()
  port <- start_server("pairs_server", serve_models()$pairs_dir)$port
  skip_if_not(file.exists("/proc/net/tcp"), "no /proc/net/tcp (not Linux): cannot list listening sockets")
  tables <- c(readLines("/proc/net/tcp")[-1], if (file.exists("/proc/net/tcp6")) readLines("/proc/net/tcp6")[-1])
  fields <- strsplit(trimws(tables), " +")
  local <- vapply(fields, `[`, "", 2)
  listening <- vapply(fields, `[`, "", 4) == "0A"
  ours <- local[listening & grepl(sprintf(":%04X$", port), local)]
  expect_equal(ours, sprintf("0100007F:%04X", port)) # 127.0.0.1 only, on IPv4 and not on IPv6
  expect_true(bertr:::is_loopback("127.0.0.1"))
  expect_true(bertr:::is_loopback("localhost"))
  expect_false(bertr:::is_loopback("0.0.0.0"))
  expect_false(bertr:::is_loopback("192.0.2.1"))
  # 192.0.2.1 (TEST-NET-1) is no address of this machine: the warning comes, then binding fails
  expect_warning(
    expect_error(bert_serve(serve_models()$binary, host = "192.0.2.1", port = free_ports(1), quiet = TRUE)),
    "listens on 192.0.2.1, not on a loopback address.*no `token` is set", class = "bertr_warning"
  )
})

test_that("an unexpected error in a handler is a 500 with a short JSON message and no traceback", {
  skip_if_no_serving()
  response <- function() { # what the handlers use of plumber's response object
    res <- new.env()
    res$setHeader <- function(name, value) res$headers[[name]] <- value
    res
  }
  handler <- bertr:::guarded(function(req, res) stop("secret detail of the failure"))
  res <- response()
  expect_message(handler(list(), res), "secret detail of the failure")
  expect_equal(res$status, 500L)
  expect_equal(res$headers[["Content-Type"]], "application/json")
  expect_equal(jsonlite::parse_json(res$body), list(error = paste(
    "Internal server error: the model could not answer this request (see the server's log)."
  )))
  refused <- bertr:::guarded(function(req, res) bertr:::abort("`texts` is wrong"))(list(), response())
  expect_equal(refused$status, 422L)
  expect_equal(jsonlite::parse_json(refused$body)$error, "`texts` is wrong")
})

test_that("load and fault test: 4 clients, good and malformed requests, a restart, nothing lost or wrong", {
  skip_if_no_serving()
  script <- test_path("..", "..", "bench", "serve_load.py")
  skip_if_not(file.exists(script), "bench/serve_load.py is not here (run the tests from the source tree)")
  models <- serve_models()
  texts <- tempfile(fileext = ".json")
  writeLines(jsonlite::toJSON(models$texts), texts)
  out <- tempfile(fileext = ".json")
  args <- c(shQuote(normalizePath(script)), "--model", shQuote(models$binary_dir), "--texts", shQuote(texts),
            "--requests", "160", "--clients", "4", "--restart-at", "0.5", "--bad-fraction", "0.15",
            "--r-libs", shQuote(paste(.libPaths(), collapse = .Platform$path.sep)), "--max-seconds", "240",
            "--out", shQuote(out))
  run <- bertr:::run_python_process(reticulate::py_config()$python, args, env = c(TF_USE_LEGACY_KERAS = "1"))
  expect_true(file.exists(out), info = paste(utils::tail(run, 30), collapse = "\n"))
  report <- jsonlite::read_json(out)
  expect_equal(attr(run, "status"), 0L, info = paste(utils::tail(run, 30), collapse = "\n"))
  expect_equal(report$answered, 160)
  expect_equal(report$lost, 0)
  expect_equal(report$wrong, 0)
  expect_true(report$alive_at_end)
  expect_gt(report$restart$downtime_seconds, 0)
  expect_gt(report$retries, 0) # the restart was felt by the clients, who retried
  statuses <- names(report$statuses)
  expect_true("200" %in% statuses)
  expect_gte(sum(unlist(report$statuses[setdiff(statuses, "200")])), 10)
  expect_true(all(statuses %in% c("200", "400", "401", "404", "405", "413", "422")))
  expect_gt(report$texts_per_s, 0)
})

test_that("the servers were alive to the end and stop", {
  skip_if_no_serving()
  for (name in c("binary_server", "pairs_server")) {
    server <- serving[[name]]
    skip_if(is.null(server), paste(name, "was not started"))
    expect_true(server$process$is_alive())
    server$process$kill()
    expect_false(server$process$is_alive())
  }
})
