import DudaoCore
import DudaoTesting
import DudaoWire
import Foundation
import Testing

/// `dudao backup` copies the running ingest's database; restoring that copy brings the ingest
/// back to it, and a consumer that had read past it is refused (README "Restoring from a backup").
@Suite struct BackupTests {
    @Test func anOnlineBackupRestoresAndTheConsumerAheadOfItIsRefused() async throws {
        let ingest = try IngestFixture()
        defer { ingest.stop() }
        let sender = try await ingest.connect()
        for n in 0..<3 {
            _ = try await sender.request(Frames.feed("town-\(n)", "registry.town", ["town_id": .string("t\(n)"), "name": "镇", "kind": "town"]))
        }
        // Taken while the ingest runs (and holds its database open).
        let copy = ingest.root.file("backup.sqlite")
        let backup = try runTool("dudao", ["backup", "--database", ingest.databasePath, "--to", copy])
        #expect(backup.status == 0, "\(backup.error)")
        #expect(backup.output.contains("integrity ok"))
        #expect(try runTool("dudao", ["backup", "--database", ingest.databasePath, "--to", copy]).status != 0, "never overwrites")

        // Three more records, which a consumer reads and commits.
        for n in 3..<6 {
            _ = try await sender.request(Frames.feed("town-\(n)", "registry.town", ["town_id": .string("t\(n)"), "name": "镇", "kind": "town"]))
        }
        await sender.close()
        let consumer = try await ingest.connect(as: "dudao-indicators")
        try await consumer.send(["v": 1, "kind": "subscribe", "id": "sub", "body": ["from": 1, "credit": 10]])
        _ = try await consumer.receive()
        for _ in 0..<6 { _ = try await consumer.receive() }
        try await consumer.send(["v": 1, "kind": "credit", "id": "c", "body": ["credit": 10, "committed": 6]])
        try await Task.sleep(for: .milliseconds(200))
        await consumer.close()

        // Restore: stop, put the copy in place (no WAL of the newer file left behind), start.
        ingest.process.stop()
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: ingest.databasePath + suffix) }
        try FileManager.default.copyItem(atPath: copy, toPath: ingest.databasePath)
        try ingest.killAndRestart()
        let status = try await ingest.connect()
        let body = try await status.request(Frames.query("s", "ingest.status"))["body"]
        #expect(body?["head"] == 3, "the copy holds the first three records")
        await status.close()
        let ahead = try await ingest.connect(as: "dudao-indicators")
        let refused = try await ahead.request(["v": 1, "kind": "subscribe", "id": "sub", "body": ["from": 7, "credit": 10]])
        #expect(refused["error"]?["path"] == "body.from", "a consumer ahead of the restored log is refused")
        await ahead.close()
    }
}
