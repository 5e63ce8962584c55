import PostgresNIO

/// Named, forward-only schema migrations on PostgreSQL, as GRDB's migrator does on SQLite: each
/// service keeps its tables in a schema of its own (`dudao_ingest`, …) with a `migrations` table
/// listing what has been applied. Several instances starting at once take turns (an advisory
/// lock per schema), so each migration runs once; a database migrated by a newer build (a
/// migration this build does not know) is refused rather than half understood.
public struct PostgresMigrations: Sendable {
    public struct Step: Sendable {
        var name: String
        var sql: [String]
    }

    public let schema: String
    private var steps: [Step] = []

    public init(schema: String) { self.schema = schema }

    /// Adds migration `name`: its statements run in order, in one transaction with its record,
    /// with the schema first on the search path (unqualified names are the service's tables).
    public mutating func register(_ name: String, _ sql: [String]) {
        steps.append(Step(name: name, sql: sql))
    }

    /// Applies the migrations not yet applied.
    public func migrate(_ database: BlockingPostgres) throws {
        try database.transaction { session in
            let quoted = "\"\(schema)\""
            try session.execute(PostgresQuery(unsafeSQL: "SELECT pg_advisory_xact_lock(hashtext('dudao:' || $1))", binds: binds([schema])))
            try session.execute(PostgresQuery(unsafeSQL: "CREATE SCHEMA IF NOT EXISTS \(quoted)"))
            try session.execute(
                PostgresQuery(
                    unsafeSQL: "CREATE TABLE IF NOT EXISTS \(quoted).migrations (name TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"))
            var applied: Set<String> = []
            for row in try session.query(PostgresQuery(unsafeSQL: "SELECT name FROM \(quoted).migrations")) {
                applied.insert(try row.decode(String.self))
            }
            let known = Set(steps.map(\.name))
            if let unknown = applied.subtracting(known).sorted().first {
                throw StorageConfigError(
                    "the database's schema \(schema) has migration \"\(unknown)\", which this build does not know: it was written by a newer build")
            }
            for step in steps where !applied.contains(step.name) {
                for statement in step.sql {
                    try session.execute(PostgresQuery(unsafeSQL: statement))
                }
                try session.execute(PostgresQuery(unsafeSQL: "INSERT INTO \(quoted).migrations (name) VALUES ($1)", binds: binds([step.name])))
            }
        }
    }

    private func binds(_ values: [String]) -> PostgresBindings {
        var bindings = PostgresBindings(capacity: values.count)
        for value in values { bindings.append(value) }
        return bindings
    }
}
