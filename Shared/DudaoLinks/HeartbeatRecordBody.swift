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
            // The members' ranges are in the body's bytes.
            let body = FlatJSONScanner(bytes: bytes, skipsWhitespace: false)
            var deviceID: String?
            var institutionID: String?
            var kind: DeviceKind?
            var at: Timestamp?
            var status: DeviceStatus?
            // The names are distinct (the reader refuses a repeated one): five known names among
            // five members are all five.
            for member in read.bodyMembers {
                let value = UnsafeBufferPointer(rebasing: bytes[member.value])
                if body.equals(member.key, "device_id") {
                    guard FeedValidator.isIdentifier(utf8: value) else { return nil }
                    deviceID = body.text(member.value)
                } else if body.equals(member.key, "institution_id") {
                    guard FeedValidator.isIdentifier(utf8: value) else { return nil }
                    institutionID = body.text(member.value)
                } else if body.equals(member.key, "device_kind") {
                    // Spelled out here, not looked up by a string made for them: a kind or status
                    // added since goes the generic way.
                    kind = body.equals(member.value, "alarm") ? .alarm : body.equals(member.value, "cctv_link") ? .cctvLink : nil
                } else if body.equals(member.key, "at") {
                    at = Timestamp(rfc3339UTF8: value)
                } else if body.equals(member.key, "status") {
                    status = body.equals(member.value, "ok") ? .ok : body.equals(member.value, "fault") ? .fault : nil
                } else {
                    return nil
                }
            }
            guard let deviceID, let institutionID, let kind, let at, let status else { return nil }
            return Heartbeat(deviceID: deviceID, institutionID: institutionID, deviceKind: kind, at: at, status: status)
        }
    }
}
