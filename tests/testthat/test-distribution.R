# strategy =, devices =, precision = from R; the GPU set-up's decisions; and bert_train(strategy = "multi_worker")
# run by two R processes on 127.0.0.1, as the scaling vignette tells users to. (Logical-device and fault tests
# run in the Python suite, test_distribution.py: they need new processes anyway.)

test_that("strategy, devices and precision are checked and named", {
  reviews <- toy_reviews(1)
  tiny <- tiny_bert()
  expect_bertr_error(bert_train(reviews, "review", "score", pretrained = tiny, strategy = "gpus", verbose = FALSE),
                     "strategy must be NULL, 'auto', 'mirrored', 'multi_worker' or a tf.distribute.Strategy")
  expect_bertr_error(bert_train(reviews, "review", "score", pretrained = tiny, strategy = "mirrored",
                                devices = "/gpu:3", verbose = FALSE),
                     "devices names /gpu:3, which TensorFlow does not see; it sees .*CPU:0")
  expect_bertr_error(bert_train(reviews, "review", "score", pretrained = tiny, precision = "mixed_float16",
                                verbose = FALSE),
                     "precision = \"mixed_float16\" needs a GPU, and TensorFlow sees none")
  expect_bertr_error(bert_train(reviews, "review", "score", pretrained = tiny, precision = "half", verbose = FALSE),
                     "precision must be one of 'float32', 'mixed_float16', 'mixed_bfloat16'")
  skip_if(nzchar(Sys.getenv("TF_CONFIG")), "TF_CONFIG is set in this session")
  expect_bertr_error(bert_train(reviews, "review", "score", pretrained = tiny, strategy = "multi_worker",
                                verbose = FALSE),
                     "strategy = \"multi_worker\" needs the cluster described: set TF_CONFIG")
  expect_error(bert_train(reviews, "review", "score", strategy = 2), "`strategy` must be NULL, \"auto\"")
  expect_error(bert_train(reviews, "review", "score", devices = 1), "`devices` must be device names")
})

test_that("a mirrored fit on this machine's CPU trains, predicts and says where it ran", {
  reviews <- toy_reviews(2)
  fit <- bert_train(reviews, "review", "score", pretrained = tiny_bert(), strategy = "mirrored", epochs = 1L,
                    batch_size = 8L, seq_len = 16L, verbose = FALSE)
  expect_equal(fit$distribution$strategy, "mirrored")
  expect_equal(fit$distribution$replicas, 1L)
  expect_equal(fit$distribution_text, "1 device (mirrored: CPU:0)")
  expect_equal(fit$settings$strategy, "mirrored")
  expect_output(print(fit), "devices:     1 device \\(mirrored: CPU:0\\)")
  expect_output(print(summary(fit)), "Settings: .*strategy = \"mirrored\", precision = \"float32\"")
  p <- predict(fit, reviews)
  expect_length(p, nrow(reviews))
  expect_true(all(p >= 0 & p <= 1))
})

test_that("mixed_bfloat16 trains on the CPU and its model saves and loads as float32", {
  reviews <- toy_reviews(2)
  fit <- bert_train(reviews, "review", "score", pretrained = tiny_bert(), precision = "mixed_bfloat16",
                    epochs = 1L, batch_size = 8L, seq_len = 16L, verbose = FALSE)
  expect_equal(fit$settings$precision, "mixed_bfloat16")
  expect_match(fit$distribution_text, "1 device \\(auto\\), mixed_bfloat16")
  dir <- file.path(tempfile(), "bf16")
  bert_save(fit, dir)
  loaded <- bert_load(dir)
  expect_equal(predict(loaded, reviews), predict(fit, reviews), tolerance = 0.05)
})

test_that("install_bertr(gpu = NA) asks nvidia-smi, and adds TensorFlow's CUDA extra to the pinned version", {
  req <- system.file("python", "requirements.txt", package = "bertr")
  expect_equal(bertr:::cuda_requirement(req), "tensorflow[and-cuda]==2.21.*")
  bin <- tempfile("smi-")
  dir.create(bin)
  smi <- file.path(bin, "nvidia-smi")
  writeLines(c("#!/bin/sh", "printf 'NVIDIA A100-SXM4-40GB\\n'"), smi)
  Sys.chmod(smi, "755")
  expect_equal(bertr:::nvidia_gpus(smi), "NVIDIA A100-SXM4-40GB")
  writeLines(c("#!/bin/sh", "echo 'NVIDIA-SMI has failed' >&2", "exit 9"), smi)
  expect_equal(bertr:::nvidia_gpus(smi), character(0))
  expect_equal(bertr:::nvidia_gpus(""), character(0))
  expect_error(install_bertr(gpu = "yes"), "`gpu` must be NA \\(detect\\), TRUE or FALSE")
})

test_that("bertr_sitrep() lists TensorFlow's devices and what it makes of the GPUs", {
  skip_if_no_bertr()
  out <- capture.output(info <- bertr_sitrep())
  expect_match(info$devices, "CPU:0")
  expect_match(info$gpu, "No NVIDIA GPU on this machine")
  expect_true(any(grepl("^devices +CPU:0", out)))
})

test_that("two R processes train one model with strategy = \"multi_worker\" (TF_CONFIG on 127.0.0.1)", {
  skip_if_no_bertr()
  skip_on_os(c("windows", "mac"))
  tiny <- tiny_bert()
  dir <- tempfile("multi-worker-")
  dir.create(dir)
  ports <- free_ports(2)
  script <- file.path(dir, "train.R")
  # the vignette's script, with the toy reviews and the tiny model
  writeLines(c(
    "library(bertr)",
    sprintf("reviews <- read.csv(%s)", deparse(file.path(dir, "reviews.csv"))),
    sprintf("fit <- bert_train(reviews, \"review\", \"score\", pretrained = %s, strategy = \"multi_worker\",",
            deparse(tiny)),
    "                  epochs = 2, batch_size = 8, seq_len = 16, dropout = 0, seed = 5,",
    sprintf("                  checkpoint_dir = %s, verbose = FALSE)", deparse(file.path(dir, "checkpoints"))),
    "worker <- fit$distribution$worker",
    sprintf("bert_save(fit, file.path(%s, paste0(\"model-\", worker)))", deparse(dir)),
    "out <- list(p = predict(fit, reviews), d = fit$distribution)",
    sprintf("saveRDS(out, file.path(%s, paste0(\"out-\", worker, \".rds\")))", deparse(dir))
  ), script)
  utils::write.csv(toy_reviews(2), file.path(dir, "reviews.csv"), row.names = FALSE)
  cluster <- sprintf("\"127.0.0.1:%d\"", ports)
  processes <- lapply(0:1, function(i) {
    config <- sprintf("{\"cluster\": {\"worker\": [%s]}, \"task\": {\"type\": \"worker\", \"index\": %d}}",
                      paste(cluster, collapse = ", "), i)
    log <- file.path(dir, paste0("worker-", i, ".log"))
    system2(file.path(R.home("bin"), "Rscript"), shQuote(script), stdout = log, stderr = log, wait = FALSE,
            env = paste0("TF_CONFIG=", shQuote(config)))
    log
  })
  outputs <- file.path(dir, paste0("out-", 0:1, ".rds"))
  deadline <- Sys.time() + 300
  while (!all(file.exists(outputs)) && Sys.time() < deadline) Sys.sleep(1)
  logs <- vapply(processes, function(log) paste(readLines(log, warn = FALSE), collapse = "\n"), "")
  expect_true(all(file.exists(outputs)), info = paste(logs, collapse = "\n----\n"))
  Sys.sleep(1) # saveRDS is the last line: let the file be complete
  out <- lapply(outputs, readRDS)
  expect_equal(out[[1]]$d$replicas, 2L)
  expect_equal(c(out[[1]]$d$chief, out[[2]]$d$chief), c(TRUE, FALSE))
  expect_equal(out[[1]]$p, out[[2]]$p, tolerance = 0)
  expect_true(file.exists(file.path(dir, "model-0", "manifest.json")))
  expect_false(file.exists(file.path(dir, "model-1"))) # only the chief writes
  expect_true(file.exists(file.path(dir, "checkpoints", "latest.json")))
  expect_equal(predict(bert_load(file.path(dir, "model-0")), toy_reviews(2)), out[[1]]$p, tolerance = 1e-5)
})
