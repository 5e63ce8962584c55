import DudaoCore
import DudaoLinks
import DudaoStorage
import DudaoTesting
import DudaoWire
import Foundation
import GRDB
import Logging
import NIOConcurrencyHelpers
import NIOCore
import Testing

/// The outbox sender (how dudao-safety and dudao-indicators hand their events to dudao-notify)
/// against a real dudao-notify.
@Suite struct OutboxSenderTests {
    /// A receiver that cannot take a frame now answers `internal` (its database busy or
    /// restarting): the frame stays in the outbox and is delivered once the receiver can. The
    /// PostgreSQL chaos soak lost alarms this way: they were dropped like refused frames.
    @Test func aFrameTheReceiverCouldNotTakeNowGoesAgain() async throws {
        let receiver = try await NotifyHTTPReceiver.start()
        let notify = try NotifyFixture(routes: NotifyFixture.routes(receiver: receiver.url))
        defer { notify.stop() }
        let directory = try TestDirectory("outbox-sender")
        defer { directory.remove() }
        let outbox = try StoreLocation.sqlite(path: directory.file("outbox.sqlite")).open(
            schema: "dudao_outboxtest", applicationName: "dudao-outboxtest", migrations: [Outbox.migration], logger: Logger(label: "test"))
        let event = NotifyFixture.event("safety:alarm:dev-1:1", type: "safety.alarm", severity: "critical", key: "alarm:dev-1")

        // notify's database held by another writer: its write of the event waits out its busy
        // timeout (10 s) and fails, so does its retry of the event alone, and it answers `internal`.
        let lock = try DatabaseQueue(path: notify.databasePath)
        let held = NIOLockedValueBox(false)
        let holder = Thread {
            try? lock.inDatabase { db in
                try db.execute(sql: "BEGIN IMMEDIATE")
                held.withLockedValue { $0 = true }
                Thread.sleep(forTimeInterval: 24)
                try db.execute(sql: "COMMIT")
            }
        }
        holder.start()
        while !held.withLockedValue({ $0 }) { try await Task.sleep(for: .milliseconds(10)) }
        try await outbox.write { db in try Outbox.enqueue(db, id: "safety:alarm:dev-1:1", frame: event, now: .now()) }
        let sender = OutboxSender(
            database: outbox, host: "127.0.0.1", port: notify.port, tls: try notify.pki.clientContext("dudao-safety"),
            serverIdentity: "dudao-notify", logger: Logger(label: "test"), idlePoll: .milliseconds(100))
        let sending = Task { try await sender.run() }
        defer { sending.cancel() }

        var pending = 1
        for _ in 0..<400 where pending > 0 {
            try await Task.sleep(for: .milliseconds(100))
            pending = try await outbox.read { db in try Outbox.count(db) }
        }
        #expect(pending == 0, "delivered once notify could take it")
        // notify has it: the same event again is a duplicate, not new.
        let again = try await notify.send([event])
        #expect(again.first?["status"] == "duplicate", "\(again.first.map(JSONWriter.string) ?? "no reply")")
        await receiver.stop()
    }
}
