extension JSONParseError {
    /// The 1-based line of ``offset`` in `bytes`, for messages that point an operator at a file's line.
    public func line(in bytes: [UInt8]) -> Int {
        var line = 1
        for byte in bytes.prefix(offset) where byte == UInt8(ascii: "\n") { line += 1 }
        return line
    }
}
