import DudaoStorage
import Logging

/// The tables of `dudao-notify` (one SQLite file, WAL, `synchronous = FULL`; or schema
/// `dudao_notify` on PostgreSQL, the same tables in its types).
///
/// - `events`: every accepted event; its (sender, id) key is the dedupe key.
/// - `alerts`: one row per episode of a condition (`alert_key`); at most one firing per key.
/// - `groups`, `group_members`: the aggregation groups per department and what each member's
///   last message said about it.
/// - `notifications`: frozen message payloads; `deliveries`: the durable queue, one row per
///   (notification, channel), `pending` → `delivered` or `dead`.
/// - `silences`: matchers with an expiry.
enum NotifySchema {
    /// Opens (creating or migrating) the notify database, durably.
    /// `exclusive`: refuse to start beside another instance on the same PostgreSQL schema.
    static func open(_ location: StoreLocation, logger: Logger, exclusive: Bool = false) throws -> any SQLDatabase {
        try location.open(schema: "dudao_notify", applicationName: "dudao-notify", migrations: migrations, logger: logger, exclusive: exclusive)
    }

    /// Opens (creating or migrating) a SQLite file (tests, tools).
    static func open(path: String) throws -> any SQLDatabase {
        try open(.sqlite(path: path), logger: Logger(label: "dudao-notify"))
    }

    static let migrations: [SQLMigration] = [
        SQLMigration(
            "v1-notify",
            portable: """
                    CREATE TABLE events (
                        sender TEXT NOT NULL,
                        event_id TEXT NOT NULL,
                        type TEXT NOT NULL,
                        alert_id TEXT,
                        received_at INTEGER NOT NULL,
                        body TEXT NOT NULL,
                        PRIMARY KEY (sender, event_id)) WITHOUT ROWID;
                    CREATE INDEX events_age ON events(received_at);
                    CREATE TABLE alerts (
                        alert_id TEXT PRIMARY KEY,
                        alert_key TEXT NOT NULL,
                        event TEXT NOT NULL,
                        severity TEXT NOT NULL,
                        status TEXT NOT NULL,
                        scope TEXT NOT NULL,
                        town TEXT,
                        institution TEXT,
                        device TEXT,
                        indicator TEXT,
                        summary TEXT NOT NULL,
                        details TEXT NOT NULL,
                        departments TEXT NOT NULL,
                        first_event TEXT NOT NULL,
                        first_at INTEGER NOT NULL,
                        last_at INTEGER NOT NULL,
                        received_at INTEGER NOT NULL,
                        resolved_at INTEGER,
                        resolved_summary TEXT,
                        events INTEGER NOT NULL DEFAULT 1,
                        notified_at INTEGER,
                        acked_by TEXT,
                        acked_at INTEGER,
                        escalated_at INTEGER,
                        silenced_by TEXT,
                        inhibited INTEGER NOT NULL DEFAULT 0);
                    CREATE UNIQUE INDEX alerts_firing ON alerts(alert_key) WHERE status = 'firing';
                    CREATE INDEX alerts_received ON alerts(received_at);
                    CREATE INDEX alerts_escalation ON alerts(notified_at) WHERE status = 'firing' AND acked_at IS NULL AND escalated_at IS NULL;
                    CREATE TABLE groups (
                        group_id TEXT PRIMARY KEY,
                        department TEXT NOT NULL,
                        labels TEXT NOT NULL,
                        group_wait REAL NOT NULL,
                        group_interval REAL NOT NULL,
                        repeat_interval REAL NOT NULL,
                        send_resolved INTEGER NOT NULL,
                        next_flush_at INTEGER,
                        repeat_at INTEGER,
                        last_sent_at INTEGER,
                        sent INTEGER NOT NULL DEFAULT 0);
                    CREATE INDEX groups_flush ON groups(next_flush_at) WHERE next_flush_at IS NOT NULL;
                    CREATE INDEX groups_repeat ON groups(repeat_at) WHERE repeat_at IS NOT NULL;
                    CREATE TABLE group_members (
                        group_id TEXT NOT NULL,
                        alert_id TEXT NOT NULL,
                        notified TEXT,
                        PRIMARY KEY (group_id, alert_id)) WITHOUT ROWID;
                    CREATE INDEX group_members_alert ON group_members(alert_id);
                    CREATE TABLE notifications (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT,
                        notification_id TEXT NOT NULL UNIQUE,
                        group_id TEXT NOT NULL,
                        department TEXT NOT NULL,
                        kind TEXT NOT NULL,
                        created_at INTEGER NOT NULL,
                        payload TEXT NOT NULL);
                    CREATE INDEX notifications_age ON notifications(created_at);
                    CREATE TABLE notification_alerts (
                        notification_id TEXT NOT NULL,
                        alert_id TEXT NOT NULL,
                        PRIMARY KEY (alert_id, notification_id)) WITHOUT ROWID;
                    CREATE TABLE deliveries (
                        delivery_id TEXT PRIMARY KEY,
                        notification_id TEXT NOT NULL,
                        department TEXT NOT NULL,
                        channel INTEGER NOT NULL,
                        target TEXT NOT NULL,
                        status TEXT NOT NULL,
                        attempts INTEGER NOT NULL DEFAULT 0,
                        next_attempt_at INTEGER NOT NULL,
                        last_error TEXT,
                        created_at INTEGER NOT NULL,
                        finished_at INTEGER);
                    CREATE INDEX deliveries_due ON deliveries(next_attempt_at) WHERE status = 'pending';
                    CREATE INDEX deliveries_dead ON deliveries(finished_at) WHERE status = 'dead';
                    CREATE INDEX deliveries_notification ON deliveries(notification_id);
                    CREATE TABLE silences (
                        silence_id TEXT PRIMARY KEY,
                        matchers TEXT NOT NULL,
                        starts_at INTEGER NOT NULL,
                        ends_at INTEGER NOT NULL,
                        comment TEXT NOT NULL,
                        created_by TEXT NOT NULL,
                        created_at INTEGER NOT NULL,
                        expiry_handled INTEGER NOT NULL DEFAULT 0);
                    """),
        // The attempt a process started: committed before the request goes out, so after a
        // crash `started_attempts > attempts` says the receiver may already have this one.
        SQLMigration("v2-started-attempts", portable: "ALTER TABLE deliveries ADD COLUMN started_attempts INTEGER NOT NULL DEFAULT 0"),
        // Sticky: some earlier attempt may have reached the receiver (lost in a crash, or sent
        // and never answered), so every later request is marked, whatever became of the ones between.
        SQLMigration("v3-in-doubt", portable: "ALTER TABLE deliveries ADD COLUMN in_doubt INTEGER NOT NULL DEFAULT 0"),
        // Rows from before v3 (a migration of its own, so it also runs where v3 already ran): an
        // earlier attempt of an unfinished delivery may have timed out or been re-sent after a
        // crash, which nothing recorded; mark them (an extra mark costs the receiver one lookup,
        // a missing one a duplicate).
        SQLMigration("v4-in-doubt-backfill", portable: "UPDATE deliveries SET in_doubt = 1 WHERE status <> 'delivered' AND attempts > 0"),
        // The type of the event that resolved an alert (`safety.device_online` ends a
        // `safety.device_offline`): a resolved message carries it in `event` (SPEC section 5).
        SQLMigration("v5-resolved-event", portable: "ALTER TABLE alerts ADD COLUMN resolved_event TEXT"),
    ]
}
