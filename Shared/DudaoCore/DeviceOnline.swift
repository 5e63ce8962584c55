/// The one rule behind `safety.alarm_online_rate`, used by dudao-safety (port 7403) and
/// dudao-indicators (port 7402) alike, so both answer the same number for the same log.
///
/// A device listed in a kindergarten's `safety.inventory` (`alarm_devices`) is online at `now`
/// when its latest heartbeat said `ok` and the ingest **received** it no more than
/// `offline_after` ago (INDICATORS.md: "not older than `offline_after`"). The clock is the
/// ingest's receipt time, never the device's own `at` (which only orders heartbeats): a device
/// whose clock runs slow is not taken for silent, and every service measures silence on the
/// same clock. Alarms are another matter: dudao-safety's offline events
/// add a grace period after its restart and a hold-down before "back online", so that a restart
/// or a flapping device raises no storm — the rate does not wait for those.
public enum DeviceOnline {
    /// - Parameters:
    ///   - lastOK: the latest heartbeat's `status` was `ok`.
    ///   - receivedMillis: when the ingest received that heartbeat (ms since the epoch).
    @inline(__always)
    public static func isOnline(lastOK: Bool, receivedMillis: Int64, nowMillis: Int64, offlineAfterMillis: Int64) -> Bool {
        lastOK && nowMillis &- receivedMillis <= offlineAfterMillis
    }
}
