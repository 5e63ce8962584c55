/// Why a catalog file was refused: where (file and line) and what is wrong.
public struct CatalogError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The catalog's name (normally its path).
    public var file: String
    /// 1-based line of the offending indicator (its `"id"` member, else its opening brace), or
    /// of the offending top-level member.
    public var line: Int
    /// The id of the offending indicator, when there is one.
    public var indicator: String?
    /// What is wrong, as a sentence a person can act on.
    public var message: String

    /// An error at `line` of `file`, about `indicator` when there is one.
    public init(file: String, line: Int, indicator: String?, message: String) {
        self.file = file
        self.line = line
        self.indicator = indicator
        self.message = message
    }

    /// `file:line: indicator "id": message`.
    public var description: String {
        if let indicator { return "\(file):\(line): indicator \"\(indicator)\": \(message)" }
        return "\(file):\(line): \(message)"
    }
}

/// A problem found while reading one part of the catalog; the loader adds file and line.
struct CatalogIssue: Error {
    var message: String

    init(_ message: String) { self.message = message }
}
