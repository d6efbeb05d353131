# The conditions bertr signals. `bertr_error`: a problem the user can fix, said in the user's terms (from R's own
# checks, or the core's BertrError). `bertr_internal_error`: an unexpected Python exception, i.e. a bug in bertr,
# keeping what is needed to report it. `bertr_warning`: something the user should know (e.g. rows dropped).

bertr_error <- function(message, call = NULL) {
  structure(
    class = c("bertr_error", "error", "condition"),
    list(message = message, call = call)
  )
}

abort <- function(...) {
  stop(bertr_error(paste0(...)))
}

bertr_warning <- function(message) {
  structure(class = c("bertr_warning", "warning", "condition"), list(message = message, call = NULL))
}

# From reticulate::py_last_error(): the exception's type, message and traceback are kept in the condition
# (`python_type`, `python_message`, `traceback`, `exception`) and shown in its message.
bertr_internal_error <- function(raised) {
  message <- paste0(
    "bertr's Python core failed with an unexpected ", raised$type, ": ", trimws(raised$value), "\n",
    "This is a bug in bertr, not a problem with your input: please report it with this traceback.\n",
    trimws(raised$message, which = "right")
  )
  structure(
    class = c("bertr_internal_error", "error", "condition"),
    list(message = message, call = NULL, python_type = raised$type, python_message = raised$value,
         traceback = raised$message, exception = attr(raised, "exception", exact = TRUE))
  )
}
