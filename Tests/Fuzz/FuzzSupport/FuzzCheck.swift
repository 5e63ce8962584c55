/// Stops the fuzz run when `condition` is false.
///
/// libFuzzer records the current input as a crash (`crash-<sha1>` under the artifact folder),
/// so every broken promise of the code under test is reported like a real crash, with the
/// sentence saying which promise.
/// - Parameters:
///   - condition: the promise that must hold for this input.
///   - message: what was promised and what was seen, built only on failure.
public func fuzzCheck(
    _ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String, file: StaticString = #fileID,
    line: UInt = #line
) {
    if !condition() { fuzzFail(message(), file: file, line: line) }
}

/// Stops the fuzz run with `message` (see ``fuzzCheck(_:_:file:line:)``).
public func fuzzFail(_ message: String, file: StaticString = #fileID, line: UInt = #line) -> Never {
    fatalError("fuzz invariant broken: \(message)", file: file, line: line)
}

/// The bytes as text for a message: valid UTF-8 as is, anything else escaped; cut at 300 bytes.
public func fuzzShow(_ bytes: some Collection<UInt8>) -> String {
    let head = Array(bytes.prefix(300))
    let text = String(decoding: head, as: UTF8.self).debugDescription
    return bytes.count > 300 ? text + "… (\(bytes.count) bytes)" : text
}
