import GRDB
import GRDBSQLite

/// A statement of the ingest's batch run through SQLite's C API on GRDB's compiled statement.
///
/// GRDB's `execute(arguments:)` builds a `StatementArguments` array, copies every string into a
/// C string and decodes results through generic, unspecialized code (a type-metadata lookup per
/// value): together about a tenth of the ingest's CPU per feed. Here the arguments are bound
/// straight from the strings' own UTF-8 storage, without a copy, and results are read as
/// integers and bytes. The statement is reset and unbound after each use.
struct SQLiteHotStatement {
    private let db: Database
    private let statement: Statement
    private var handle: OpaquePointer { statement.sqliteStatement }

    init(_ db: Database, _ sql: String) throws {
        self.db = db
        statement = try db.cachedStatement(sql: sql)
    }

    /// One value to bind: text from a string or bytes, or an integer.
    enum Value {
        case text(String)
        case bytes([UInt8])
        case integer(Int64)
    }

    /// Runs a statement that returns nothing with `values` bound.
    func execute(_ values: Value...) throws {
        try execute(values: values)
    }

    /// ``execute(_:)`` with the values in an array (a statement of many rows).
    func execute(values: [Value]) throws {
        defer { done() }
        _ = try bind(values, from: 0) { _ in () }
    }

    /// Runs a query with `values` bound; its first row read by `row` (nil when there is none).
    func query<T>(_ values: Value..., row: (Row) throws -> T) throws -> T? {
        defer { done() }
        return try bind(values, from: 0) { hasRow in hasRow ? try row(Row(handle: handle)) : nil }
    }

    /// Binds `values[index...]` in place (SQLITE_STATIC: SQLite reads the strings' own storage
    /// instead of copying each one), then steps once and hands `then` whether a row came. Each
    /// string's storage lives for the closure that binds it, so the step runs inside them all.
    private func bind<T>(_ values: [Value], from index: Int, then: (Bool) throws -> T) throws -> T {
        guard index < values.count else { return try then(try step()) }
        let position = Int32(index + 1)
        switch values[index] {
        case .integer(let integer):
            try check(sqlite3_bind_int64(handle, position, integer))
            return try bind(values, from: index + 1, then: then)
        case .text(var string):
            return try string.withUTF8 { utf8 in
                try check(sqlite3_bind_text(handle, position, utf8.baseAddress, Int32(utf8.count), nil))  // SQLITE_STATIC
                return try bind(values, from: index + 1, then: then)
            }
        case .bytes(let bytes):
            return try bytes.withUnsafeBufferPointer { utf8 in
                try check(sqlite3_bind_text(handle, position, utf8.baseAddress, Int32(utf8.count), nil))  // SQLITE_STATIC
                return try bind(values, from: index + 1, then: then)
            }
        }
    }

    /// Steps once: whether a row came.
    private func step() throws -> Bool {
        let code = sqlite3_step(handle)
        switch code {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default: throw failure(code)
        }
    }

    /// Resets the statement and unbinds its parameters, whose storage is gone once `bind` returns
    /// (GRDB may run the cached statement again, and must not find them).
    private func done() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    private func check(_ code: Int32) throws {
        guard code == SQLITE_OK else { throw failure(code) }
    }

    private func failure(_ code: Int32) -> DatabaseError {
        DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
    }

    /// The current row, its columns read in place.
    struct Row {
        let handle: OpaquePointer

        func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(handle, column) }

        /// Column `column`'s text as bytes (copied out of SQLite's buffer).
        func bytes(_ column: Int32) -> [UInt8] {
            guard let text = sqlite3_column_text(handle, column) else { return [] }
            let count = Int(sqlite3_column_bytes(handle, column))
            return Array(UnsafeBufferPointer(start: text, count: count))
        }
    }
}
