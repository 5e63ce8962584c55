import DudaoCore
import NIOCore

extension Frame {
    /// One record of the ingest log as a subscriber receives it (SPEC section 2):
    /// `{"v":1,"kind":"record","id":"<seq>","type":…,"body":{"seq":…,"sender":…,"feed_id":…,
    /// "key":…,"as_of":…,"received_at":…,"record":<the feed body>}}`.
    public struct Record: Sendable, Equatable {
        public var seq: Int64
        /// The feed type as on the wire.
        public var type: String
        public var sender: String
        public var feedID: String
        public var key: String
        public var asOf: Timestamp
        public var receivedAt: Timestamp
        /// The feed body.
        public var body: JSONObject

        public init(
            seq: Int64, type: String, sender: String, feedID: String, key: String, asOf: Timestamp, receivedAt: Timestamp,
            body: JSONObject
        ) {
            self.seq = seq
            self.type = type
            self.sender = sender
            self.feedID = feedID
            self.key = key
            self.asOf = asOf
            self.receivedAt = receivedAt
            self.body = body
        }

        /// The frame's bytes, spliced around `bodyJSON` — the body as the ingest stored it (compact
        /// JSON), neither parsed nor written again: the hot path of every subscription.
        public static func encode(
            seq: Int64, type: String, sender: String, feedID: String, key: String, asOfMillis: Int64, receivedAtMillis: Int64,
            bodyJSON: String
        ) -> ByteBuffer {
            encode(
                seq: seq, type: type, sender: sender, feedID: feedID, key: key, asOfMillis: asOfMillis,
                receivedAtMillis: receivedAtMillis, bodyUTF8: bodyJSON.utf8)
        }

        /// The same, the body given as its UTF-8 bytes.
        public static func encode<Body: Collection<UInt8>>(
            seq: Int64, type: String, sender: String, feedID: String, key: String, asOfMillis: Int64, receivedAtMillis: Int64,
            bodyUTF8 bodyJSON: Body
        ) -> ByteBuffer {
            var out: [UInt8] = []
            out.reserveCapacity(bodyJSON.count + 256)
            out.append(contentsOf: #"{"v":1,"kind":"record","id":""#.utf8)
            out.append(contentsOf: String(seq).utf8)
            out.append(contentsOf: #"","type":"#.utf8)
            JSONWriter.writeString(type, into: &out)
            out.append(contentsOf: #","body":{"seq":"#.utf8)
            out.append(contentsOf: String(seq).utf8)
            out.append(contentsOf: #","sender":"#.utf8)
            JSONWriter.writeString(sender, into: &out)
            out.append(contentsOf: #","feed_id":"#.utf8)
            JSONWriter.writeString(feedID, into: &out)
            out.append(contentsOf: #","key":"#.utf8)
            JSONWriter.writeString(key, into: &out)
            out.append(contentsOf: #","as_of":""#.utf8)
            Timestamp(millis: asOfMillis).write(into: &out)
            out.append(contentsOf: #"","received_at":""#.utf8)
            Timestamp(millis: receivedAtMillis).write(into: &out)
            out.append(contentsOf: #"","record":"#.utf8)
            out.append(contentsOf: bodyJSON)
            out.append(contentsOf: "}}".utf8)
            return ByteBuffer(bytes: out)
        }

        /// The record as a frame, in the form ``encode(seq:type:sender:feedID:key:asOfMillis:receivedAtMillis:bodyUTF8:)`` writes.
        public var frame: JSONValue {
            let envelopeBody: JSONObject = [
                "seq": .int(seq), "sender": .string(sender), "feed_id": .string(feedID), "key": .string(key),
                "as_of": .string(asOf.description), "received_at": .string(receivedAt.description), "record": .object(body),
            ]
            return Frame.frame(.record, id: String(seq), type: type, body: .object(envelopeBody))
        }

        /// Reads a `record` frame; nil for any other frame or one missing what a record carries.
        /// A missing `sender`/`feed_id` reads as empty, a missing time as the epoch.
        public init?(frame: JSONValue) {
            guard frame["kind"]?.stringValue == Kind.record.rawValue, let type = frame["type"]?.stringValue,
                let envelopeBody = frame["body"], let seq = envelopeBody["seq"]?.intValue,
                let key = envelopeBody["key"]?.stringValue, let body = envelopeBody["record"]?.objectValue
            else { return nil }
            func time(_ name: String) -> Timestamp {
                envelopeBody[name]?.stringValue.flatMap { Timestamp(rfc3339: $0) } ?? Timestamp(millis: 0)
            }
            self.init(
                seq: seq, type: type, sender: envelopeBody["sender"]?.stringValue ?? "", feedID: envelopeBody["feed_id"]?.stringValue ?? "",
                key: key, asOf: time("as_of"), receivedAt: time("received_at"), body: body)
        }
    }
}
