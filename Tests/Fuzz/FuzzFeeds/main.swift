import FuzzSupport

// libFuzzer calls `fuzzFeeds` (also exported as `LLVMFuzzerTestOneInput`) on every input.
runLibFuzzer { data, size in fuzzFeeds(data, size) }
