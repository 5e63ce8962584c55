import Foundation
import NIOConcurrencyHelpers

/// Random tokens (session ids, CSRF tokens) and their comparison.
enum Tokens {
    /// 32 random bytes from the system's CSPRNG, as 64 hex characters.
    static func random() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }

    /// Compares in time independent of where the strings differ.
    static func equal(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count, !x.isEmpty else { return false }
        var difference: UInt8 = 0
        for i in 0..<x.count { difference |= x[i] ^ y[i] }
        return difference == 0
    }
}

/// One browser's session: anonymous (only a CSRF token for the log-in form) or logged in.
struct Session: Sendable {
    var id: String
    var csrf: String
    var username: String?
    var lastSeen: Date

    /// Whether `token` (from a form) is this session's CSRF token.
    func acceptsCSRF(_ token: String?) -> Bool {
        guard let token else { return false }
        return Tokens.equal(token, csrf)
    }
}

/// Sessions in memory: a restart logs everyone out.
final class SessionStore: Sendable {
    private let sessions = NIOLockedValueBox([String: Session]())
    let idleSeconds: TimeInterval
    let maxSessions: Int

    init(idleSeconds: TimeInterval, maxSessions: Int = 20_000) {
        self.idleSeconds = idleSeconds
        self.maxSessions = maxSessions
    }

    /// The live session with this id (its idle clock restarts).
    func session(_ id: String?, now: Date = Date()) -> Session? {
        guard let id, id.count == 64 else { return nil }
        return sessions.withLockedValue { all in
            guard var session = all[id] else { return nil }
            guard now.timeIntervalSince(session.lastSeen) < idleSeconds else {
                all[id] = nil
                return nil
            }
            session.lastSeen = now
            all[id] = session
            return session
        }
    }

    /// A new session (anonymous when `username` is nil) with a new id and CSRF token.
    func create(username: String?, now: Date = Date()) -> Session {
        let session = Session(id: Tokens.random(), csrf: Tokens.random(), username: username, lastSeen: now)
        sessions.withLockedValue { all in
            if all.count >= maxSessions {
                all = all.filter { now.timeIntervalSince($0.value.lastSeen) < idleSeconds }
                // Still full: drop the anonymous ones (log-in forms never submitted).
                if all.count >= maxSessions { all = all.filter { $0.value.username != nil } }
            }
            all[session.id] = session
        }
        return session
    }

    func remove(_ id: String) {
        _ = sessions.withLockedValue { $0.removeValue(forKey: id) }
    }
}

/// Lockout after repeated failed log-ins: `maxFailures` failures of one account within `window`
/// lock it for `lockSeconds` (the right password is refused too while locked).
struct LoginThrottle: Sendable {
    struct Entry: Sendable {
        var failures: Int
        var firstFailure: Date
        var lockedUntil: Date?
    }

    var maxFailures = 5
    var lockSeconds: TimeInterval = 300
    var window: TimeInterval = 300
    private(set) var entries: [String: Entry] = [:]

    init(maxFailures: Int = 5, lockSeconds: TimeInterval = 300, window: TimeInterval = 300) {
        self.maxFailures = maxFailures
        self.lockSeconds = lockSeconds
        self.window = window
    }

    /// Until when `account` is locked, or nil.
    func lockedUntil(_ account: String, now: Date) -> Date? {
        guard let until = entries[account]?.lockedUntil, until > now else { return nil }
        return until
    }

    mutating func recordFailure(_ account: String, now: Date) {
        var entry = entries[account] ?? Entry(failures: 0, firstFailure: now, lockedUntil: nil)
        if let until = entry.lockedUntil, until <= now {
            entry = Entry(failures: 0, firstFailure: now, lockedUntil: nil)
        }
        if now.timeIntervalSince(entry.firstFailure) > window {
            entry = Entry(failures: 0, firstFailure: now, lockedUntil: nil)
        }
        entry.failures += 1
        if entry.failures >= maxFailures { entry.lockedUntil = now.addingTimeInterval(lockSeconds) }
        entries[account] = entry
        if entries.count > 50_000 { entries = entries.filter { now.timeIntervalSince($0.value.firstFailure) < window + lockSeconds } }
    }

    mutating func recordSuccess(_ account: String) {
        entries[account] = nil
    }
}
