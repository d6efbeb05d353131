# The Python core, imported lazily: nothing starts Python until the first bertr call that needs it.
core <- NULL

.onLoad <- function(libname, pkgname) {
  # keras-bert needs TensorFlow's Keras 2 API; must be set before TensorFlow is imported.
  Sys.setenv(TF_USE_LEGACY_KERAS = "1")
  if (!nzchar(Sys.getenv("TF_CPP_MIN_LOG_LEVEL"))) Sys.setenv(TF_CPP_MIN_LOG_LEVEL = "2")
  use_bertr_env()
  core <<- reticulate::import_from_path(
    "bertr",
    path = system.file("python", package = pkgname, lib.loc = libname),
    delay_load = TRUE
  )
}
