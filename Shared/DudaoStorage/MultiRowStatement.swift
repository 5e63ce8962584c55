/// One statement for many rows (`INSERT … VALUES (…), (…), …`), run a chunk of rows at a time:
/// a statement per row costs its lookup in the statement cache, its bindings and its step for
/// every row (dudao-indicators' records, dudao-safety's new devices).
///
/// The statement for `n` rows is built once: `prefix`, `n` copies of `row` joined by commas,
/// then `suffix` (an `ON CONFLICT …` clause).
public struct MultiRowStatement: Sendable {
    public let rowsPerStatement: Int
    /// The statement for `n` rows at index `n - 1`.
    private let statements: [String]

    public init(prefix: String, row: String, suffix: String = "", rowsPerStatement: Int = 32) {
        precondition(rowsPerStatement > 0)
        self.rowsPerStatement = rowsPerStatement
        statements = (1...rowsPerStatement).map { count in
            prefix + " " + Array(repeating: row, count: count).joined(separator: ", ") + (suffix.isEmpty ? "" : " " + suffix)
        }
    }

    /// The statement for `count` rows (1 … `rowsPerStatement`).
    public func sql(rows count: Int) -> String { statements[count - 1] }

    /// Runs the statement over `rows`, `rowsPerStatement` at a time, `bind` appending each
    /// row's values in the order of `row`'s placeholders.
    public func run<Rows: Collection>(_ rows: Rows, on db: any SQLConnection, bind: (Rows.Element, inout SQLArguments) -> Void) throws {
        var start = rows.startIndex
        while start != rows.endIndex {
            let end = rows.index(start, offsetBy: rowsPerStatement, limitedBy: rows.endIndex) ?? rows.endIndex
            var arguments = SQLArguments()
            var count = 0
            for row in rows[start..<end] {
                bind(row, &arguments)
                count += 1
            }
            try db.run(sql(rows: count), arguments)
            start = end
        }
    }
}
