import DudaoCore

extension Frame.Record {
    /// A record frame read straight from its bytes, without the generic JSON tree: what a
    /// consumer receives for every stored feed (the heartbeats above all).
    ///
    /// The body is kept as it came, with where its members are: ``record`` builds its members
    /// when asked, and a consumer that decodes a heartbeat straight from ``bodyJSON`` never
    /// builds them.
    public struct Read: Sendable {
        /// The record, its body left empty (``record`` has it).
        public var envelope: Frame.Record
        /// The feed body as the ingest sent it (the compact JSON it stored).
        public var bodyJSON: [UInt8]
        /// The body's members in ``bodyJSON``: where each name and each (string) value is.
        public var bodyMembers: [(key: Range<Int>, value: Range<Int>)]

        /// The record with its body.
        public var record: Frame.Record {
            var record = envelope
            bodyJSON.withUnsafeBufferPointer { bytes in
                let body = FlatJSONScanner(bytes: bytes, skipsWhitespace: false)
                record.body = JSONObject(bodyMembers.map { (key: body.text($0.key), value: .string(body.text($0.value))) })
            }
            return record
        }
    }

    /// Reads a record frame in the exact form ``encode(seq:type:sender:feedID:key:asOfMillis:receivedAtMillis:bodyUTF8:)``
    /// writes, whose strings are printable ASCII without escapes and whose body is a flat object
    /// of such strings, each name once. Anything else (another member order, whitespace, an
    /// escape, other text, a number in the body, a nested body) gives `nil`: the frame then takes
    /// the generic parser, which gives the same record or the precise error.
    /// `RecordFrameReaderTests` compares both paths frame by frame.
    public static func read(_ bytes: UnsafeBufferPointer<UInt8>) -> Read? {
        var scanner = FlatJSONScanner(bytes: bytes, skipsWhitespace: false)
        return scanner.record()
    }
}

extension FlatJSONScanner {
    /// A record frame in the ingest's form, from the start of the bytes to their end.
    fileprivate mutating func record() -> Frame.Record.Read? {
        guard take(#"{"v":1,"kind":"record","id":""#), let id = integer(), take(#"","type":"#),
            let type = string(), take(#","body":{"seq":"#), let seq = integer(), seq == id,
            take(#","sender":"#), let sender = string(), take(#","feed_id":"#), let feedID = string(),
            take(#","key":"#), let key = string(), take(#","as_of":"#), let asOf = time(),
            take(#","received_at":"#), let receivedAt = time(), take(#","record":"#)
        else { return nil }
        let bodyStart = index
        guard var members = flatObject() else { return nil }
        let bodyEnd = index
        guard take("}}"), index == bytes.count else { return nil }
        for index in members.indices {
            members[index].key = members[index].key.lowerBound - bodyStart..<members[index].key.upperBound - bodyStart
            members[index].value = members[index].value.lowerBound - bodyStart..<members[index].value.upperBound - bodyStart
        }
        let envelope = Frame.Record(
            seq: seq, type: text(type), sender: text(sender), feedID: text(feedID), key: text(key), asOf: asOf, receivedAt: receivedAt,
            body: JSONObject())
        return Frame.Record.Read(
            envelope: envelope, bodyJSON: Array(UnsafeBufferPointer(rebasing: bytes[bodyStart..<bodyEnd])), bodyMembers: members)
    }

    /// A non-negative integer without a sign, a fraction, an exponent or a leading zero.
    private mutating func integer() -> Int64? {
        let start = index
        var value: Int64 = 0
        while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
            let (times, overflow) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflowAgain) = times.addingReportingOverflow(Int64(bytes[index] - UInt8(ascii: "0")))
            guard !overflow, !overflowAgain else { return nil }
            value = sum
            index += 1
        }
        let count = index - start
        guard count > 0, count == 1 || bytes[start] != UInt8(ascii: "0") else { return nil }
        return value
    }

    /// A string holding an RFC 3339 time.
    private mutating func time() -> Timestamp? {
        guard let range = string() else { return nil }
        return Timestamp(rfc3339UTF8: UnsafeBufferPointer(rebasing: bytes[range]))
    }
}
