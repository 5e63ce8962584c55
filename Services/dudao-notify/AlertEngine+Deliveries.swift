import DudaoCore
import DudaoStorage

/// Delivery outcomes and housekeeping, in the writer's transaction.
extension AlertEngine {
    /// A receiver answered 2xx (or the file was written): never send this delivery again.
    func deliverySucceeded(_ deliveryID: String, db: any SQLConnection, now: Timestamp) throws {
        try db.run(
            """
            UPDATE deliveries SET status = 'delivered', attempts = attempts + 1, finished_at = ?, last_error = NULL
            WHERE delivery_id = ? AND status = 'pending'
            """,
            [now.millis, deliveryID])
    }

    /// A delivery failed: retry later with backoff, or move it to the dead letters.
    /// - Parameter inDoubt: the receiver may have it (this attempt was unanswered, or an earlier
    ///   one was in doubt): every later attempt is marked.
    func deliveryFailed(_ deliveryID: String, error: String, permanent: Bool, inDoubt: Bool, db: any SQLConnection, now: Timestamp) throws {
        guard
            let attempts = try db.row(
                "SELECT attempts FROM deliveries WHERE delivery_id = ? AND status = 'pending'", [deliveryID]
            )
            .map({ $0[0] as Int })
        else { return }
        let made = attempts + 1
        if permanent || made >= retry.maxAttempts {
            try db.run(
                """
                UPDATE deliveries SET status = 'dead', attempts = ?, last_error = ?, finished_at = ?, in_doubt = CASE WHEN ? = 1 THEN 1 ELSE in_doubt END
                WHERE delivery_id = ?
                """,
                [made, error, now.millis, inDoubt, deliveryID])
        } else {
            try db.run(
                """
                UPDATE deliveries SET attempts = ?, last_error = ?, next_attempt_at = ?, in_doubt = CASE WHEN ? = 1 THEN 1 ELSE in_doubt END
                WHERE delivery_id = ?
                """,
                [made, error, now.adding(seconds: retry.delay(afterAttempts: made)).millis, inDoubt, deliveryID])
        }
    }

    // MARK: housekeeping

    /// Drops dedupe entries past the window and history past `history_days`.
    func compact(db: any SQLConnection, now: Timestamp) throws {
        try db.run("DELETE FROM events WHERE received_at < ?", [now.millis - dedupeWindowMillis])
        let cutoff = now.millis - historyMillis
        try db.run("DELETE FROM deliveries WHERE status = 'delivered' AND finished_at < ?", [cutoff])
        try db.run(
            """
            DELETE FROM notifications WHERE created_at < ?
            AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.notification_id = notifications.notification_id)
            """,
            [cutoff])
        try db.run(
            """
            DELETE FROM notification_alerts WHERE NOT EXISTS (
                SELECT 1 FROM notifications n WHERE n.notification_id = notification_alerts.notification_id)
            """)
        try db.run(
            """
            DELETE FROM alerts WHERE status = 'resolved' AND received_at < ?
            AND NOT EXISTS (SELECT 1 FROM group_members m WHERE m.alert_id = alerts.alert_id)
            """,
            [cutoff])
        try db.run("DELETE FROM silences WHERE ends_at < ?", [cutoff])
    }
}
