import DudaoCore
import DudaoFeeds
import DudaoWire

/// A `safety.heartbeat` record's body decoded straight from the bytes the ingest sent
/// (``Frame/Record/Read``), the consumers' most frequent record: without it, each heartbeat's
/// ten names and values were made strings, put in a `JSONObject` and read back through
/// ``FeedValidator`` (about 13 000 instructions of a dudao-safety's 32 000 per heartbeat).
///
/// Only a body ``FeedValidator/decode(_:_:)`` accepts is decoded here: the five fields, each
/// once, no other, identifiers and choices and the time as it requires them. Anything else
/// gives `nil`, and the record takes the generic path, which gives the same heartbeat or the
/// validator's precise error. `HeartbeatRecordBodyTests` compares both paths.
enum HeartbeatRecordBody {
    static func decode(_ read: Frame.Record.Read) -> Heartbeat? {
        guard read.bodyMembers.count == 5 else { return nil }
        return read.bodyJSON.withUnsafeBufferPointer { bytes -> Heartbeat? in
            var deviceID: String?
            var institutionID: String?
            var kind: DeviceKind?
            var at: Timestamp?
            var status: DeviceStatus?
            for member in read.bodyMembers {
                let name = UnsafeBufferPointer(rebasing: bytes[member.key])
                let value = UnsafeBufferPointer(rebasing: bytes[member.value])
                // The names are distinct (the reader refuses a repeated one): five known names
                // among five members are all five. Their lengths tell them apart.
                switch name.count {
                case 9:
                    guard equals(name, "device_id"), FeedValidator.isIdentifier(utf8: value) else { return nil }
                    deviceID = String(decoding: value, as: UTF8.self)
                case 14:
                    guard equals(name, "institution_id"), FeedValidator.isIdentifier(utf8: value) else { return nil }
                    institutionID = String(decoding: value, as: UTF8.self)
                case 11:
                    guard equals(name, "device_kind") else { return nil }
                    kind = Self.kind(value)
                case 2:
                    guard equals(name, "at"), let value = Timestamp(rfc3339UTF8: value) else { return nil }
                    at = value
                case 6:
                    guard equals(name, "status") else { return nil }
                    status = Self.status(value)
                default:
                    return nil
                }
            }
            guard let deviceID, let institutionID, let kind, let at, let status else { return nil }
            return Heartbeat(deviceID: deviceID, institutionID: institutionID, deviceKind: kind, at: at, status: status)
        }
    }

    /// The device kinds and statuses spelled out here, not looked up by a string made for them:
    /// a value that is none of these (a kind added since) goes the generic way.
    private static func kind(_ value: UnsafeBufferPointer<UInt8>) -> DeviceKind? {
        switch value.count {
        case 5 where equals(value, "alarm"): .alarm
        case 9 where equals(value, "cctv_link"): .cctvLink
        default: nil
        }
    }

    private static func status(_ value: UnsafeBufferPointer<UInt8>) -> DeviceStatus? {
        switch value.count {
        case 2 where equals(value, "ok"): .ok
        case 5 where equals(value, "fault"): .fault
        default: nil
        }
    }

    /// Whether `bytes` are `name` (of the same length: the caller's switch checked it).
    private static func equals(_ bytes: UnsafeBufferPointer<UInt8>, _ name: StaticString) -> Bool {
        let start = name.utf8Start
        for index in 0..<bytes.count where bytes[index] != start[index] { return false }
        return true
    }
}
