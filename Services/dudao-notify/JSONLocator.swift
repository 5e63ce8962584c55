/// Finds the line on which each value of a JSON text starts, by path (`routes[2].to[1]`), so a
/// configuration mistake can be reported with the line an operator has to fix.
///
/// It runs only on text the strict parser has already accepted, so it is lenient: it skips what
/// it does not expect instead of failing.
struct JSONLocator {
    private let bytes: [UInt8]
    private var index = 0
    private var line = 1
    private(set) var lines: [String: Int] = [:]

    /// - Returns: the line of every value, keyed by path (`""` for the root).
    static func lines(of bytes: [UInt8]) -> [String: Int] {
        var locator = JSONLocator(bytes: bytes)
        locator.value(path: "")
        return locator.lines
    }

    /// The line holding byte `offset` (for parse errors).
    static func line(of offset: Int, in bytes: [UInt8]) -> Int {
        1 + bytes.prefix(max(0, min(offset, bytes.count))).reduce(0) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) }
    }

    private init(bytes: [UInt8]) { self.bytes = bytes }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "\n"): line += 1
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"): break
            default: return
            }
            index += 1
        }
    }

    private mutating func value(path: String) {
        skipWhitespace()
        guard index < bytes.count else { return }
        lines[path] = line
        switch bytes[index] {
        case UInt8(ascii: "{"):
            index += 1
            while true {
                skipWhitespace()
                guard index < bytes.count else { return }
                if bytes[index] == UInt8(ascii: "}") {
                    index += 1
                    return
                }
                if bytes[index] == UInt8(ascii: ",") {
                    index += 1
                    continue
                }
                guard bytes[index] == UInt8(ascii: "\"") else {
                    index += 1
                    continue
                }
                let key = string()
                skipWhitespace()
                if index < bytes.count, bytes[index] == UInt8(ascii: ":") { index += 1 }
                value(path: path.isEmpty ? key : "\(path).\(key)")
            }
        case UInt8(ascii: "["):
            index += 1
            var element = 0
            while true {
                skipWhitespace()
                guard index < bytes.count else { return }
                if bytes[index] == UInt8(ascii: "]") {
                    index += 1
                    return
                }
                if bytes[index] == UInt8(ascii: ",") {
                    index += 1
                    continue
                }
                value(path: "\(path)[\(element)]")
                element += 1
            }
        case UInt8(ascii: "\""):
            _ = string()
        default:
            while index < bytes.count, !",]} \t\r\n".utf8.contains(bytes[index]) { index += 1 }
        }
    }

    /// Reads a string starting at the opening quote; returns its raw contents (escapes kept).
    private mutating func string() -> String {
        index += 1
        let start = index
        while index < bytes.count, bytes[index] != UInt8(ascii: "\"") {
            if bytes[index] == UInt8(ascii: "\\") { index += 1 }
            index += 1
        }
        let text = String(decoding: bytes[start..<min(index, bytes.count)], as: UTF8.self)
        index += 1
        return text
    }
}
