import DudaoCore
import DudaoObservability

/// What dudao-safety shows at `/metrics`, read from its state at scrape time.
enum SafetyMetrics {
    /// `dudao_devices{state}`: online, offline, fault, retired.
    static let devices = GaugeFamily("dudao_devices", dimensions: ["state"])
    /// `dudao_safety{figure}`: open_alarms, institutions_down, outbox, position.
    static let figures = GaugeFamily("dudao_safety", dimensions: ["figure"])

    static func collect(engine: SafetyEngine) {
        guard case .success(let status) = SafetyQueries.status(engine: engine, now: engine.clock.now()), let body = status.objectValue else {
            return
        }
        for state in ["online", "offline", "fault", "retired"] {
            devices.record([state], Double(body[state]?.intValue ?? 0))
        }
        for (name, value) in body where !["online", "offline", "fault", "retired"].contains(name) {
            if let number = value.intValue { figures.record([name], Double(number)) }
        }
    }
}
