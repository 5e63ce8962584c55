import FuzzSupport

// libFuzzer calls `fuzzEnvelope` (also exported as `LLVMFuzzerTestOneInput`) on every input.
runLibFuzzer { data, size in fuzzEnvelope(data, size) }
