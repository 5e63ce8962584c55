import Foundation

/// A real PostgreSQL server for the tests (Debian's binaries, `deploy/postgres/test-cluster.sh`):
/// the one `deploy/test.sh` started (`DUDAO_TEST_POSTGRES_DIR`, `DUDAO_TEST_POSTGRES_PORT`), or
/// one this test process starts in a temporary folder. Each test takes a database of its own.
public final class PostgresServer: Sendable {
    public let directory: String
    public let port: Int
    /// Whether this process started it (and so stops it at exit).
    private let owned: Bool

    /// The server the tests share.
    public static var shared: PostgresServer {
        get throws { try sharedServer.get() }
    }

    private static let sharedServer: Result<PostgresServer, any Error> = Result {
        let environment = ProcessInfo.processInfo.environment
        if let directory = environment["DUDAO_TEST_POSTGRES_DIR"], let port = environment["DUDAO_TEST_POSTGRES_PORT"].flatMap(Int.init) {
            return PostgresServer(directory: directory, port: port, owned: false)
        }
        let server = try PostgresServer.startPrivate(label: "dudao-pg-shared")
        atexit { PostgresServer.stopAtExit() }
        return server
    }

    private static func stopAtExit() {
        if case .success(let server) = sharedServer, server.owned { server.remove() }
    }

    private init(directory: String, port: Int, owned: Bool) {
        self.directory = directory
        self.port = port
        self.owned = owned
    }

    /// A server of the caller's own (a test that restarts it must not disturb the others).
    public static func startPrivate(label: String = "dudao-pg") throws -> PostgresServer {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("\(label)-\(UUID().uuidString.prefix(8))").path
        let server = PostgresServer(directory: directory, port: try freeLoopbackPort(), owned: true)
        try server.start()
        return server
    }

    static var script: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("deploy/postgres/test-cluster.sh").path
    }

    /// Starts the server (again, after `stop`), on the same folder and port.
    public func start() throws {
        let (status, output) = try Self.spawnAndWait(Self.script, ["start", directory, String(port)])
        guard status == 0 else { throw ServiceProcessError(message: "PostgreSQL did not start: \(output)") }
    }

    /// A fast shutdown (connections are cut, as a crash or failover would).
    public func stop() {
        _ = try? Self.spawnAndWait(Self.script, ["stop", directory])
    }

    /// `kill -9` of every server process but the postmaster (each backend, the checkpointer,
    /// the WAL writer): PostgreSQL's crash restart — shared memory thrown away, every connection
    /// cut, WAL replayed — as after a power cut. Returns once the server accepts connections again.
    ///
    /// Not a `kill -9` of the postmaster itself: its backends would live on, orphaned and still
    /// connected, beside the next postmaster (a state no real restart produces).
    public func crashRestart() throws {
        let pidFile = try String(contentsOfFile: "\(directory)/data/postmaster.pid", encoding: .utf8)
        guard let pid = pidFile.split(separator: "\n").first.flatMap({ Int32($0) }) else {
            throw ServiceProcessError(message: "no postmaster PID in \(directory)/data/postmaster.pid")
        }
        _ = try Self.spawnAndWait("/usr/bin/pkill", ["-9", "-P", String(pid)])
        for _ in 0..<600 {
            usleep(50_000)
            if (try? Self.spawnAndWait("/usr/bin/pg_isready", ["-q", "-h", "127.0.0.1", "-p", String(port)]).status) == 0 { return }
        }
        throw ServiceProcessError(message: "PostgreSQL did not come back after its crash restart")
    }

    /// The URL of database `name` (TCP on loopback; `extra` is appended as URL parameters).
    public func url(_ name: String = "postgres", extra: String = "") -> String {
        "postgres://postgres@127.0.0.1:\(port)/\(name)" + (extra.isEmpty ? "" : "?\(extra)")
    }

    /// The CA that signed the server's certificate (for `sslmode=verify-full`).
    public var certificateAuthority: String { "\(directory)/tls/ca.pem" }

    /// A new, empty database; its URL.
    public func freshDatabase(_ label: String = "t") throws -> String {
        let name = "\(label)_\(UUID().uuidString.prefix(8).lowercased())"
        _ = try psql("CREATE DATABASE \(name)")
        return url(name)
    }

    /// Runs `sql` with psql and returns what it printed (unaligned, tuples only).
    @discardableResult
    public func psql(_ sql: String, database: String = "postgres") throws -> String {
        let (status, output) = try Self.spawnAndWait("/usr/bin/psql", ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", url(database), "-c", sql])
        guard status == 0 else { throw ServiceProcessError(message: "psql failed: \(output)") }
        return output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Removes a private server's folder after stopping it.
    public func remove() {
        stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Runs a program to its end with posix_spawn and waitpid; its status and output (standard
    /// output and error together). Not Foundation's `Process`: its `waitUntilExit` needs a free
    /// Dispatch thread, and tests blocked on the shared server can hold every one of them.
    static func spawnAndWait(_ path: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let outputPath = FileManager.default.temporaryDirectory.appendingPathComponent("dudao-spawn-\(UUID().uuidString)").path
        defer { unlink(outputPath) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, path, &actions, nil, argv, environ)
        guard spawned == 0 else { throw ServiceProcessError(message: "cannot start \(path): error \(spawned)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        let exited = status & 0x7f == 0
        return (exited ? (status >> 8) & 0xff : 128 + (status & 0x7f), output)
    }
}

/// The database name part of a test database's URL.
public func databaseName(of url: String) -> String {
    String(url.split(separator: "/").last ?? "").components(separatedBy: "?")[0]
}
