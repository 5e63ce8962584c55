import GRDB
import GRDBSQLite

/// A statement of the ingest's batch run through SQLite's C API on GRDB's compiled statement.
///
/// GRDB's `execute(arguments:)` builds a `StatementArguments` array, copies every string into a
/// C string and decodes results through generic, unspecialized code (a type-metadata lookup per
/// value): together about a tenth of the ingest's CPU per feed. Here the arguments are bound
/// straight from the strings' own UTF-8 storage (SQLite copies them) and results are read as
/// integers and bytes. The statement is reset after each use, as GRDB expects to find it.
struct SQLiteHotStatement {
    private let db: Database
    private let statement: Statement
    private var handle: OpaquePointer { statement.sqliteStatement }
    private static let transient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)

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
        defer { sqlite3_reset(handle) }
        _ = try step(values)
    }

    /// Runs a query with `values` bound; its first row read by `row` (nil when there is none).
    func query<T>(_ values: Value..., row: (Row) throws -> T) throws -> T? {
        defer { sqlite3_reset(handle) }
        return try step(values) ? try row(Row(handle: handle)) : nil
    }

    /// Binds `values` and steps once: whether a row came.
    private func step(_ values: [Value]) throws -> Bool {
        for (index, value) in values.enumerated() {
            let position = Int32(index + 1)
            let code: Int32
            switch value {
            case .integer(let integer):
                code = sqlite3_bind_int64(handle, position, integer)
            case .text(var string):
                code = string.withUTF8 { utf8 in
                    sqlite3_bind_text(handle, position, utf8.baseAddress, Int32(utf8.count), Self.transient)
                }
            case .bytes(let bytes):
                code = bytes.withUnsafeBufferPointer { utf8 in
                    sqlite3_bind_text(handle, position, utf8.baseAddress, Int32(utf8.count), Self.transient)
                }
            }
            guard code == SQLITE_OK else { throw failure(code) }
        }
        let code = sqlite3_step(handle)
        switch code {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default: throw failure(code)
        }
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
