import DudaoLinks
import DudaoCore
import DudaoFeeds

@testable import dudao_safety

/// Ingest log records built in memory, as the log consumer would deliver them (for the
/// in-process benchmark and the tests).
enum SafetyRecords {
    /// A record of `type` with `body`; the key and `as_of` are worked out as the ingest does
    /// (`as_of` defaults to `receivedAt`).
    static func record(seq: Int64, _ type: FeedType, _ body: JSONObject, receivedAt: Timestamp) -> LogRecord {
        let feed = try? FeedValidator.decode(type, body)
        var record = LogRecord(
            seq: seq, type: type, key: feed?.key ?? "", body: body, asOf: feed?.asOf ?? receivedAt, sender: "operator",
            feedID: "f-\(seq)")
        record.receivedAt = receivedAt
        return record
    }

    static func heartbeat(
        seq: Int64, device: String, institution: String, kind: String = "alarm", status: String = "ok", at: Timestamp,
        receivedAt: Timestamp? = nil
    ) -> LogRecord {
        record(
            seq: seq, .safetyHeartbeat,
            [
                "device_id": .string(device), "institution_id": .string(institution), "device_kind": .string(kind),
                "at": .string(at.description), "status": .string(status),
            ],
            receivedAt: receivedAt ?? at)
    }

    static func alarm(seq: Int64, device: String, institution: String, at: Timestamp, receivedAt: Timestamp? = nil, note: String? = nil)
        -> LogRecord
    {
        var body: JSONObject = ["device_id": .string(device), "institution_id": .string(institution), "at": .string(at.description)]
        if let note { body["note"] = .string(note) }
        return record(seq: seq, .safetyAlarm, body, receivedAt: receivedAt ?? at)
    }

    static func town(seq: Int64, id: String, name: String, at: Timestamp) -> LogRecord {
        record(seq: seq, .registryTown, ["town_id": .string(id), "name": .string(name), "kind": "town"], receivedAt: at)
    }

    static func institution(seq: Int64, id: String, name: String, town: String, level: String = "kindergarten", at: Timestamp) -> LogRecord {
        record(
            seq: seq, .registryInstitution,
            ["institution_id": .string(id), "name": .string(name), "town_id": .string(town), "level": .string(level), "ownership": "public"],
            receivedAt: at)
    }

    static func inventory(
        seq: Int64, institution: String, alarms: [String], linked: Bool = true, closed: Bool = true, guardsRequired: Int64 = 1,
        guards: Int64 = 1, at: Timestamp
    ) -> LogRecord {
        record(
            seq: seq, .safetyInventory,
            [
                "institution_id": .string(institution), "alarm_devices": .array(alarms.map { .string($0) }),
                "cctv_police_linked": .bool(linked), "cameras": 10, "cameras_linked": linked ? 10 : 4, "closed_management": .bool(closed),
                "guards_required": .int(guardsRequired), "guards_full_time": .int(guards),
            ],
            receivedAt: at)
    }
}
