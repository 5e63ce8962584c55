import NIOConcurrencyHelpers

/// A value that a reload (SIGHUP) replaces as a whole; readers take what is current.
public final class Reloadable<Value: Sendable>: Sendable {
    private let box: NIOLockedValueBox<Value>

    public init(_ value: Value) { box = NIOLockedValueBox(value) }

    public var current: Value { box.withLockedValue { $0 } }

    public func replace(_ value: Value) { box.withLockedValue { $0 = value } }
}

/// One thing a reload re-reads: a name for the log, and the work (which throws, leaving the
/// old value in force, when the new file is bad).
public struct ReloadStep: Sendable {
    public var name: String
    public var reload: @Sendable () throws -> Void

    public init(_ name: String, reload: @escaping @Sendable () throws -> Void) {
        self.name = name
        self.reload = reload
    }
}
