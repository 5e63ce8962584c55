/// One cell of a sheet, as written or as read.
public enum SheetCell: Sendable, Equatable {
    case empty
    /// Text, kept as typed (identifiers such as `0012` stay text).
    case text(String)
    /// A number in its decimal spelling (`12`, `1180.5`), as the sheet stores it.
    case number(String)
    case bool(Bool)
    /// An error value of a formula (`#N/A`, `#DIV/0!`).
    case error(String)

    public static func number(_ value: Int64) -> SheetCell { .number(String(value)) }

    /// A finite number in the shortest spelling that reads back the same; text otherwise.
    public static func number(_ value: Double) -> SheetCell {
        guard value.isFinite else { return .text(String(value)) }
        if value == value.rounded(), abs(value) < 1e15 { return .number(String(Int64(value))) }
        return .number(String(value))
    }

    public var isEmpty: Bool {
        switch self {
        case .empty: true
        case .text(let text): text.isEmpty
        default: false
        }
    }
}

/// One row read from a sheet: its 1-based number and its cells by 0-based column.
public struct SheetRow: Sendable {
    public var number: Int
    public var cells: [SheetCell]

    public init(number: Int, cells: [SheetCell]) {
        self.number = number
        self.cells = cells
    }

    public subscript(column: Int) -> SheetCell { column < cells.count ? cells[column] : .empty }

    public var isEmpty: Bool { cells.allSatisfy(\.isEmpty) }
}
