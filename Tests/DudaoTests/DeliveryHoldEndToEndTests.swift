import DudaoCore
import DudaoTesting
import DudaoWire
import Foundation
import NIOConcurrencyHelpers
import Testing

/// The real dudao-ingest under a burst of heartbeats, a subscriber following it: news of the
/// burst's records may wait (`delivery.hold_ms`, here a minute; `delivery.quiet_ms` 5 s, so that
/// a debug build's short pauses do not let it out), an alarm sent in the middle of it does not,
/// and in the end the subscriber has every record once, in order.
@Suite(.serialized) struct DeliveryHoldEndToEndTests {
    /// What the subscriber was sent: each record's number and type, in order of arrival.
    final class Received: Sendable {
        private let records = NIOLockedValueBox<[(seq: Int64, type: String)]>([])
        func add(_ seq: Int64, _ type: String) { records.withLockedValue { $0.append((seq, type)) } }
        var all: [(seq: Int64, type: String)] { records.withLockedValue { $0 } }
        var count: Int { records.withLockedValue { $0.count } }
    }

    /// Keeps `connections` connections sending heartbeats, `window` in flight each, until
    /// `stop` is set; returns how many were accepted (each is a new record).
    static func burst(_ ingest: IngestFixture, connections: Int, window: Int, stop: NIOLockedValueBox<Bool>) -> Task<Int, any Error> {
        Task {
            try await withThrowingTaskGroup(of: Int.self) { group in
                for c in 0..<connections {
                    group.addTask {
                        let client = try await ingest.connect()
                        var accepted = 0
                        var n = 0
                        func sendOne() async throws {
                            let at = Timestamp(millis: 1_780_000_000_000 + Int64(n) * 1000).description
                            let body = SampleFeeds.heartbeat(device: "dev-\(c)-\(n % 100)", at: at)
                            try await client.send(Frames.feed("hb-\(c)-\(n)", "safety.heartbeat", body), flush: false)
                            n += 1
                        }
                        // A sliding window: a new feed for each reply, so it never runs dry.
                        for _ in 0..<window { try await sendOne() }
                        client.flush()
                        var inFlight = window
                        while inFlight > 0 {
                            // What was sent goes out before waiting for a reply.
                            if !client.hasBufferedFrames { client.flush() }
                            if try await client.receive()?["status"] == "accepted" { accepted += 1 }
                            inFlight -= 1
                            if !stop.withLockedValue({ $0 }) {
                                try await sendOne()
                                inFlight += 1
                            }
                        }
                        await client.close()
                        return accepted
                    }
                }
                return try await group.reduce(0, +)
            }
        }
    }

    @Test func anAlarmInTheMiddleOfABurstIsNotHeldBack() async throws {
        let metricsPort = try freeLoopbackPort()
        let ingest = try IngestFixture(
            settings: #""metrics": {"host": "127.0.0.1", "port": \#(metricsPort)}, "delivery": {"hold_ms": 60000, "quiet_ms": 5000}"#)
        defer { ingest.stop() }
        try await ingest.registerSampleKindergarten()

        let received = Received()
        let subscribed = NIOLockedValueBox(false)
        let total = NIOLockedValueBox<Int?>(nil)
        let reading = Task {
            let consumer = try await ingest.connect(as: "dudao-safety")
            let started = try await consumer.request(["v": 1, "kind": "subscribe", "id": "sub", "body": ["from": 1, "credit": 1_000_000]])
            subscribed.withLockedValue { $0 = started["kind"] == "result" }
            while received.count < total.withLockedValue({ $0 ?? .max }), let frame = try await consumer.receive() {
                guard frame["kind"] == "record", let seq = frame["body"]?["seq"]?.intValue else { continue }
                received.add(seq, frame["type"]?.stringValue ?? "")
            }
            await consumer.close()
        }
        for _ in 0..<500 where !subscribed.withLockedValue({ $0 }) { try await Task.sleep(for: .milliseconds(10)) }
        #expect(subscribed.withLockedValue { $0 })

        // The burst: four connections, 256 in flight each (the writer stays busy, even in a
        // debug build), until the alarm has reached the subscriber.
        let stop = NIOLockedValueBox(false)
        let sending = Self.burst(ingest, connections: 4, window: 256, stop: stop)

        // Well into the burst: an alarm. Its news is not held back: it reaches the subscriber
        // (after every record before it) while the burst goes on, well within the minute the
        // heartbeats' news may wait.
        let status = try await ingest.connect()
        var head: Int64 = 0
        let deadline = ContinuousClock.now + .seconds(120)
        while head < 3_000, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
            head = try await status.request(Frame.query("ingest.status", id: "s"))["body"]?["head"]?.intValue ?? 0
        }
        // The heartbeats' news is being held: the subscriber has few of them.
        let before = received.count
        #expect(before < Int(head) / 2, "the subscriber had \(before) records at head \(head)")
        let police = try await ingest.connect(as: "police-video-platform")
        let alarm: JSONValue = ["device_id": "alarm-1", "institution_id": "kg-dongcheng-01", "at": .string(Timestamp.now().description)]
        #expect(try await police.request(Frames.feed("alarm", "safety.alarm", alarm))["status"] == "accepted")
        let alarmed = ContinuousClock.now
        while !received.all.contains(where: { $0.type == "safety.alarm" }), ContinuousClock.now - alarmed < .seconds(20) {
            try await Task.sleep(for: .milliseconds(10))
        }
        let waited = ContinuousClock.now - alarmed
        #expect(received.all.contains { $0.type == "safety.alarm" }, "not within 20 s of its ack, the burst going on")
        print("alarm sent at head \(head) (the subscriber had \(before) records), received \(waited) after its ack")
        stop.withLockedValue { $0 = true }
        let accepted = try await sending.value

        // Every record once, in order: the registry, the burst and the alarm.
        let expected = accepted + 3
        total.withLockedValue { $0 = expected }
        let settled = ContinuousClock.now
        while received.count < expected, ContinuousClock.now - settled < .seconds(60) {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(received.all.map(\.seq) == (1...Int64(expected)).map { $0 })

        // The ingest did hold news back during the burst, at least once.
        let (_, metrics) = try await MetricsEndpointTests.get("http://127.0.0.1:\(metricsPort)/metrics")
        let holds = metrics.split(separator: "\n").first { $0.hasPrefix("dudao_delivery_held_seconds_count") }
        #expect((holds?.split(separator: " ").last.flatMap { Int($0) } ?? 0) >= 1, "\(holds ?? "no dudao_delivery_held_seconds_count")")

        reading.cancel()
        await status.close()
        await police.close()
    }
}
