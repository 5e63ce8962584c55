import DudaoFeeds
/// The timing of the liveness rules.
struct LivenessSettings: Sendable, Equatable {
    /// Silence after which a device is offline (INDICATORS.md: 180 s, three missed 60 s keepalives).
    var offlineAfterMillis: Int64 = 180_000
    /// How long a device that came back must stay healthy before `safety.device_online` is sent.
    var holdDownMillis: Int64 = 60_000
}

/// An event a transition asks for.
enum DeviceTransition: Sendable, Equatable {
    /// Firing `safety.device_offline`.
    case wentOffline
    /// Firing `safety.device_fault`.
    case reportedFault
    /// Resolved `safety.device_online`.
    case cameBack
    /// Resolved `safety.device_retired`: removed from the inventory while something was firing for it.
    case retired
}

/// The per-device state machine: online, offline, fault — pure functions of a record, the
/// heartbeat or the time, and the settings.
///
/// - A heartbeat `ok` makes the device online; `fault` makes it faulty (firing
///   `safety.device_fault` unless something is already firing for it).
/// - No heartbeat for `offline_after` (measured from the ingest's receipt time, see
///   ``DeviceRecord/lastSeen``) makes it offline (firing `safety.device_offline`, unless an
///   offline event is already firing for it).
/// - Once a device with a firing event has been online for `hold_down`, one resolved
///   `safety.device_online` ends it.
///
/// - A device removed from its institution's inventory is retired: not watched until its next
///   heartbeat (which makes it online or faulty like any other); what was firing for it is
///   resolved by one `safety.device_retired`.
///
/// So each silence raises one offline event, each return one online event, and whatever its
/// heartbeats do a device raises at most one offline/online pair per `offline_after +
/// hold_down`: no flapping storm.
enum Liveness {
    /// A new device's record after its first heartbeat, and the event it raises (a first
    /// heartbeat `fault` raises `safety.device_fault`; a first `ok` raises nothing).
    static func firstHeartbeat(institution: Int32, kind: DeviceKind, ok: Bool, at: Int64, receivedAt: Int64)
        -> (DeviceRecord, DeviceTransition?)
    {
        let record = DeviceRecord(
            institution: institution, kind: kind, state: ok ? .online : .fault, alerting: ok ? .none : .fault, dirty: false,
            lastSeen: receivedAt, lastAt: at, since: receivedAt)
        return (record, ok ? nil : .reportedFault)
    }

    /// Applies a heartbeat; returns the event it raises, if any.
    ///
    /// A heartbeat whose device time `at` is older than the last one applied changes nothing
    /// (the ingest already answers such records `stale`; this guards replays).
    static func heartbeat(_ record: inout DeviceRecord, ok: Bool, at: Int64, receivedAt: Int64, settings: LivenessSettings)
        -> DeviceTransition?
    {
        guard at >= record.lastAt else { return nil }
        record.lastAt = at
        record.lastSeen = max(record.lastSeen, receivedAt)
        record.dirty = true
        if ok {
            if record.state != .online {
                record.state = .online
                record.since = receivedAt
            }
            if record.alerting != .none, receivedAt - record.since >= settings.holdDownMillis {
                record.alerting = .none
                return .cameBack
            }
            return nil
        }
        if record.state != .fault {
            record.state = .fault
            record.since = receivedAt
        }
        if record.alerting == .none {
            record.alerting = .fault
            return .reportedFault
        }
        return nil
    }

    /// Applies the passage of time at `now`; returns the event it raises, if any.
    ///
    /// - Parameter graceFrom: the silence is counted from `max(lastSeen, graceFrom)`; the engine
    ///   passes the time the service started, so a restart gives every device a full
    ///   `offline_after` to be heard from again instead of declaring all of them offline.
    static func check(_ record: inout DeviceRecord, now: Int64, graceFrom: Int64, settings: LivenessSettings) -> DeviceTransition? {
        if record.state == .retired { return nil }
        if record.state != .offline {
            let silentFrom = max(record.lastSeen, graceFrom)
            if now - silentFrom >= settings.offlineAfterMillis {
                record.state = .offline
                record.since = silentFrom + settings.offlineAfterMillis
                if record.alerting < .offline {
                    record.alerting = .offline
                    return .wentOffline
                }
                return nil
            }
        }
        if record.state == .online, record.alerting != .none, now - record.since >= settings.holdDownMillis {
            record.alerting = .none
            return .cameBack
        }
        return nil
    }

    /// The device was removed from its institution's inventory at `at`: retired. Returns the
    /// event that ends what was firing for it, if anything was.
    static func retire(_ record: inout DeviceRecord, at: Int64) -> DeviceTransition? {
        guard record.state != .retired else { return nil }
        let firing = record.alerting != .none
        record.state = .retired
        record.since = at
        record.alerting = .none
        return firing ? .retired : nil
    }
}
