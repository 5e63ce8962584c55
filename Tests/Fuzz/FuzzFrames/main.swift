import FuzzSupport

// libFuzzer calls `fuzzFrames` (also exported as `LLVMFuzzerTestOneInput`) on every input.
runLibFuzzer { data, size in fuzzFrames(data, size) }
