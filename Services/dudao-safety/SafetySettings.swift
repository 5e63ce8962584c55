/// How `dudao-safety` judges devices and alarms (the engine's part of deploy/safety.json).
struct SafetySettings: Sendable, Equatable {
    var liveness = LivenessSettings()
    /// An alarm stays in the open list this long after the ingest received it (`alarm_open_minutes`).
    var alarmOpenMillis: Int64 = 30 * 60_000
    /// An alarm the ingest received longer ago than this (a replay after a long outage, or a
    /// rebuilt service reading 90 days of log) is recorded but raises no event (`alarm_max_age_hours`).
    var alarmMaxAgeMillis: Int64 = 24 * 3_600_000
    /// A reconnect to the ingest this recent, with nothing applied since, holds offline declarations back.
    var reconnectHoldMillis: Int64 = 30_000

    /// Records applied this long after the ingest received them mean the consumer is replaying
    /// a backlog: offline declarations wait until it has caught up.
    var catchUpLagMillis: Int64 { max(liveness.offlineAfterMillis / 2, 5_000) }
}
