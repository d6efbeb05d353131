# Conditions of class `bertr_error`: problems the user can fix, said in the user's terms.

bertr_error <- function(message, call = NULL) {
  structure(
    class = c("bertr_error", "error", "condition"),
    list(message = message, call = call)
  )
}

abort <- function(...) {
  stop(bertr_error(paste0(...)))
}

# Runs `expr` (a call into the Python core) and turns a Python `BertrError` into a `bertr_error`
# carrying only its message; other Python errors keep their type and message but lose the traceback.
call_core <- function(expr) {
  tryCatch(expr, error = function(e) {
    if (inherits(e, "bertr_error")) stop(e)
    message <- conditionMessage(e)
    parsed <- regmatches(message, regexec("^(?:[A-Za-z_.]+\\.)?([A-Za-z_]+(?:Error|Exception)): (.*)$",
                                           strsplit(message, "\n", fixed = TRUE)[[1]][1]))[[1]]
    if (length(parsed) == 3 && parsed[2] == "BertrError") {
      body <- sub("^(?:[A-Za-z_.]+\\.)?BertrError: ", "", message, perl = TRUE)
      body <- sub("\\n+(Detailed traceback|Run `reticulate::py_last_error\\(\\)`).*$", "", body)
      abort(trimws(body))
    }
    if (length(parsed) == 3) {
      stop(bertr_error(paste0("Python error in bertr's core (", parsed[2], "): ", parsed[3])))
    }
    stop(e)
  })
}
