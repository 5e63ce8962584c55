import DudaoCore
import Foundation
import Logging

/// Log lines as JSON objects on standard error, one per line (for journald, ELK, Loki):
/// `{"ts":"2026-12-02T15:04:05.123Z","level":"warning","label":"dudao-safety","message":"…","metadata":{…}}`.
public struct JSONLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    let label: String

    public init(label: String) { self.label = label }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = self.metadata
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        var object: JSONObject = [
            "ts": .string(Timestamp(millis: Int64(Date().timeIntervalSince1970 * 1000)).description),
            "level": .string(event.level.rawValue),
            "label": .string(label),
            "message": .string(event.message.description),
        ]
        if !merged.isEmpty {
            object["metadata"] = .object(JSONObject(merged.sorted { $0.key < $1.key }.map { (key: $0.key, value: Self.json($0.value)) }))
        }
        var line = JSONWriter.bytes(.object(object))
        line.append(UInt8(ascii: "\n"))
        // One write(2) per line: lines of concurrent loggers do not interleave.
        line.withUnsafeBufferPointer { buffer in
            _ = write(2, buffer.baseAddress, buffer.count)
        }
    }

    static func json(_ value: Logger.Metadata.Value) -> JSONValue {
        switch value {
        case .string(let text): .string(text)
        case .stringConvertible(let convertible): .string(convertible.description)
        case .array(let values): .array(values.map(json))
        case .dictionary(let values): .object(JSONObject(values.sorted { $0.key < $1.key }.map { (key: $0.key, value: json($0.value)) }))
        }
    }
}
