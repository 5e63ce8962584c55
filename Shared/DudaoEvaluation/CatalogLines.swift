/// Byte offsets of the parts of a catalog file, for error messages that name a line.
///
/// One pass over the bytes, aware of strings and nesting (the file has already parsed as
/// JSON, or the parser's error offset is used instead): where each top-level member starts,
/// where each element of the top-level `indicators` array starts, and where its `"id"` member is.
struct CatalogLines {
    private var newlines: [Int] = []
    /// Offset of each top-level member name.
    private(set) var topMembers: [String: Int] = [:]
    /// Offset of the opening brace of each element of `indicators`.
    private(set) var indicatorStarts: [Int] = []
    /// Offset of the `"id"` member of each element of `indicators`, when present.
    private(set) var indicatorIDs: [Int?] = []

    init(_ bytes: [UInt8]) {
        var stack: [UInt8] = []
        var expectKey = false
        var topKey: String?
        var i = 0
        let quote = UInt8(ascii: "\""), backslash = UInt8(ascii: "\\")
        while i < bytes.count {
            let byte = bytes[i]
            switch byte {
            case quote:
                let start = i
                i += 1
                while i < bytes.count, bytes[i] != quote {
                    if bytes[i] == backslash { i += 1 }
                    if i < bytes.count, bytes[i] == 0x0A { newlines.append(i) }
                    i += 1
                }
                if expectKey, stack.last == UInt8(ascii: "{") {
                    let end = min(i, bytes.count)
                    let key = String(decoding: bytes[(start + 1)..<end], as: UTF8.self)
                    if stack.count == 1 {
                        if topMembers[key] == nil { topMembers[key] = start }
                        topKey = key
                    } else if stack.count == 3, topKey == "indicators", stack[1] == UInt8(ascii: "["), key == "id",
                        let last = indicatorIDs.indices.last, indicatorIDs[last] == nil
                    {
                        indicatorIDs[last] = start
                    }
                    expectKey = false
                }
            case UInt8(ascii: "{"):
                stack.append(byte)
                expectKey = true
                if stack.count == 3, topKey == "indicators", stack[1] == UInt8(ascii: "[") {
                    indicatorStarts.append(i)
                    indicatorIDs.append(nil)
                }
            case UInt8(ascii: "["):
                stack.append(byte)
                expectKey = false
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                if !stack.isEmpty { stack.removeLast() }
                expectKey = false
            case UInt8(ascii: ","):
                expectKey = stack.last == UInt8(ascii: "{")
            case 0x0A:
                newlines.append(i)
            default:
                break
            }
            i += 1
        }
    }

    /// The 1-based line holding byte `offset`.
    func line(at offset: Int) -> Int {
        var low = 0, high = newlines.count
        while low < high {
            let mid = (low + high) / 2
            if newlines[mid] < offset { low = mid + 1 } else { high = mid }
        }
        return low + 1
    }

    /// The line of indicator `index`: its `"id"` member, else its opening brace, else line 1.
    func indicatorLine(_ index: Int) -> Int {
        guard index < indicatorStarts.count else { return 1 }
        return line(at: indicatorIDs[index] ?? indicatorStarts[index])
    }

    /// The line of top-level member `name`, else line 1.
    func memberLine(_ name: String) -> Int {
        topMembers[name].map { line(at: $0) } ?? 1
    }
}
