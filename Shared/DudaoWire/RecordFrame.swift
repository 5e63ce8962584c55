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
            var bodyJSON = bodyJSON
            return bodyJSON.withUTF8 { body in
                encode(
                    seq: seq, type: type, sender: sender, feedID: feedID, key: key, asOfMillis: asOfMillis,
                    receivedAtMillis: receivedAtMillis, body: UnsafeRawBufferPointer(body))
            }
        }

        /// The same, the body given as its UTF-8 bytes.
        public static func encode(
            seq: Int64, type: String, sender: String, feedID: String, key: String, asOfMillis: Int64, receivedAtMillis: Int64,
            bodyUTF8 bodyJSON: [UInt8]
        ) -> ByteBuffer {
            bodyJSON.withUnsafeBytes { body in
                encode(
                    seq: seq, type: type, sender: sender, feedID: feedID, key: key, asOfMillis: asOfMillis,
                    receivedAtMillis: receivedAtMillis, body: body)
            }
        }

        /// The same, the sender, feed id, key and body given as their UTF-8 bytes (the ingest
        /// keeps them so for its subscribers).
        public static func encode(
            seq: Int64, type: String, senderUTF8 sender: UnsafeBufferPointer<UInt8>, feedIDUTF8 feedID: UnsafeBufferPointer<UInt8>,
            keyUTF8 key: UnsafeBufferPointer<UInt8>, asOfMillis: Int64, receivedAtMillis: Int64, bodyUTF8 body: UnsafeBufferPointer<UInt8>
        ) -> ByteBuffer {
            var type = type
            return type.withUTF8 { type in
                encode(
                    seq: seq, type: type, sender: sender, feedID: feedID, key: key, asOfMillis: asOfMillis, receivedAtMillis: receivedAtMillis,
                    body: body)
            }
        }

        private static func encode(
            seq: Int64, type: String, sender: String, feedID: String, key: String, asOfMillis: Int64, receivedAtMillis: Int64,
            body: UnsafeRawBufferPointer
        ) -> ByteBuffer {
            var (type, sender, feedID, key) = (type, sender, feedID, key)
            return type.withUTF8 { type in
                sender.withUTF8 { sender in
                    feedID.withUTF8 { feedID in
                        key.withUTF8 { key in
                            encode(
                                seq: seq, type: type, sender: sender, feedID: feedID, key: key, asOfMillis: asOfMillis,
                                receivedAtMillis: receivedAtMillis, body: body.bindMemory(to: UInt8.self))
                        }
                    }
                }
            }
        }

        /// The frame around `body`, written piece by piece into one array: the fixed parts copied
        /// whole, the numbers digit by digit.
        private static func encode(
            seq: Int64, type: UnsafeBufferPointer<UInt8>, sender: UnsafeBufferPointer<UInt8>, feedID: UnsafeBufferPointer<UInt8>,
            key: UnsafeBufferPointer<UInt8>, asOfMillis: Int64, receivedAtMillis: Int64, body: UnsafeBufferPointer<UInt8>
        ) -> ByteBuffer {
            var out: [UInt8] = []
            out.reserveCapacity(body.count + 256)
            func append(_ literal: StaticString) {
                out.append(contentsOf: UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
            }
            append(#"{"v":1,"kind":"record","id":""#)
            appendDecimal(seq, to: &out)
            append(#"","type":"#)
            JSONWriter.writeString(utf8: type, into: &out)
            append(#","body":{"seq":"#)
            appendDecimal(seq, to: &out)
            append(#","sender":"#)
            JSONWriter.writeString(utf8: sender, into: &out)
            append(#","feed_id":"#)
            JSONWriter.writeString(utf8: feedID, into: &out)
            append(#","key":"#)
            JSONWriter.writeString(utf8: key, into: &out)
            append(#","as_of":""#)
            Timestamp(millis: asOfMillis).write(into: &out)
            append(#"","received_at":""#)
            Timestamp(millis: receivedAtMillis).write(into: &out)
            append(#"","record":"#)
            out.append(contentsOf: body)
            append("}}")
            return ByteBuffer(bytes: out)
        }

        /// `value` in decimal, as `String(value)` writes it.
        static func appendDecimal(_ value: Int64, to out: inout [UInt8]) {
            guard value > 0 else {
                out.append(contentsOf: String(value).utf8)  // 0 and the negatives: rare
                return
            }
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
                var start = digits.count
                var rest = value
                while rest > 0 {
                    start -= 1
                    digits[start] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: rest % 10)
                    rest /= 10
                }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: digits[start...]))
            }
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
