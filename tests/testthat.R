library(testthat)
library(bertr)

test_check("bertr")
