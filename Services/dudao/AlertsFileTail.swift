import DudaoCore
import Foundation
import NIOConcurrencyHelpers

/// Follows a `dudao-notify` file channel (JSON Lines, one message a line, fsync'd) and notes
/// when each alert key first appeared — the benchmark's "alert left notify" instant.
final class AlertsFileTail: Sendable {
    private let path: String
    private let seen = NIOLockedValueBox<[String: ContinuousClock.Instant]>([:])
    private let task = NIOLockedValueBox<Task<Void, Never>?>(nil)

    init(path: String) { self.path = path }

    /// First appearance of each `alert_key` so far.
    var arrivals: [String: ContinuousClock.Instant] { seen.withLockedValue { $0 } }

    /// Polls the file every millisecond until `stop()`.
    func start() {
        let path = self.path
        let seen = self.seen
        let polling = Task {
            var offset: UInt64 = 0
            var pending: [UInt8] = []
            var handle: FileHandle?
            while !Task.isCancelled {
                if handle == nil { handle = FileHandle(forReadingAtPath: path) }
                if let handle {
                    try? handle.seek(toOffset: offset)
                    let data = handle.readDataToEndOfFile()
                    if !data.isEmpty {
                        let now = ContinuousClock.now
                        offset += UInt64(data.count)
                        pending += data
                        while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                            let line = Array(pending[..<newline])
                            pending.removeFirst(newline + 1)
                            guard let message = try? JSONParser.parse(line) else { continue }
                            let keys = [message["alert_key"]?.stringValue].compactMap { $0 }
                            seen.withLockedValue { seen in
                                for key in keys where seen[key] == nil { seen[key] = now }
                            }
                        }
                    }
                }
                try? await Task.sleep(for: .milliseconds(1))
            }
            try? handle?.close()
        }
        task.withLockedValue { $0 = polling }
    }

    func stop() { task.withLockedValue { $0?.cancel() } }
}
