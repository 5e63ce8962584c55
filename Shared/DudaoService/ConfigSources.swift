import Configuration
import DudaoCore
import Synchronization

/// The configuration file as a swift-configuration provider: a `JSONSnapshot` (the package's
/// `JSON` trait) of the file's members, comments (`_…`) left out.
///
/// `FileProvider<JSONSnapshot>` reads its file asynchronously, but a service's settings are read
/// synchronously at start (and by `check-config`); the snapshot it would wrap is built here from
/// bytes already read (and already checked by `JSONParser`, whose errors carry a line number).
struct JSONFileProvider: ConfigProvider {
    let providerName: String
    private let contents: JSONSnapshot

    init(name: String, object: JSONObject, secret: @escaping @Sendable (String) -> Bool) throws {
        providerName = name
        let bytes = JSONWriter.bytes(.object(object))
        contents = try JSONSnapshot(
            data: bytes.span.bytes, providerName: name,
            parsingOptions: .init(secretsSpecifier: .dynamic { key, _ in secret(key) }))
    }

    func value(forKey key: AbsoluteConfigKey, type: ConfigType) throws -> LookupResult {
        try contents.value(forKey: key, type: type)
    }

    // swift-configuration is built with NonisolatedNonsendingByDefault: its async requirements
    // run on the caller's executor.
    nonisolated(nonsending) func fetchValue(forKey key: AbsoluteConfigKey, type: ConfigType) async throws -> LookupResult {
        try contents.value(forKey: key, type: type)
    }

    nonisolated(nonsending) func watchValue<Return: ~Copyable>(
        forKey key: AbsoluteConfigKey, type: ConfigType,
        updatesHandler: nonisolated(nonsending) (_ updates: ConfigUpdatesAsyncSequence<Result<LookupResult, any Error>, Never>) async throws
            -> Return
    ) async throws -> Return {
        try await watchValueFromValue(forKey: key, type: type, updatesHandler: updatesHandler)
    }

    func snapshot() -> any ConfigSnapshot { contents }

    nonisolated(nonsending) func watchSnapshot<Return: ~Copyable>(
        updatesHandler: nonisolated(nonsending) (_ updates: ConfigUpdatesAsyncSequence<any ConfigSnapshot, Never>) async throws -> Return
    ) async throws -> Return {
        try await watchSnapshotFromSnapshot(updatesHandler: updatesHandler)
    }
}

/// The reader's access reporter: every key a service asked for, where its value came from (or
/// that a default was used), and which provider could not convert it. The unknown-key check
/// and the redacted summary are built from it.
final class ConfigAccessRecorder: AccessReporter {
    struct Access: Sendable {
        /// The provider that supplied the value, `nil` when none had it.
        var provider: String?
        /// The value as the summary shows it; `nil` for a secret.
        var shown: String?
        var isSecret: Bool
        /// The provider that had a value it could not convert to the type asked for.
        var failedProvider: String?
        var usedDefault: Bool
    }

    private struct State {
        var accesses: [String: Access] = [:]
        /// Paths read whole (`ConfigFile.value(_:)`): everything under them is known.
        var subtrees: Set<String> = []
    }

    private let state = Mutex(State())

    func report(_ event: AccessEvent) {
        let key = event.metadata.key.components.joined(separator: ".")
        var access = Access(provider: nil, shown: nil, isSecret: false, failedProvider: nil, usedDefault: false)
        for result in event.providerResults {
            switch result.result {
            case .failure: access.failedProvider = result.providerName
            case .success(let lookup) where lookup.value != nil && access.provider == nil: access.provider = result.providerName
            case .success: break
            }
        }
        if event.conversionError != nil, access.failedProvider == nil { access.failedProvider = access.provider ?? "?" }
        if case .success(let value?) = event.result {
            access.isSecret = value.isSecret
            access.shown = value.isSecret ? nil : Self.show(value.content)
        }
        state.withLock { $0.accesses[key] = access }
    }

    /// What the last access of `key` found.
    func access(_ key: String) -> Access? { state.withLock { $0.accesses[key] } }

    /// `key` was not set anywhere: `shown` (the default) is what the service uses.
    func usedDefault(_ key: String, shown: String, isSecret: Bool) {
        state.withLock {
            $0.accesses[key] = Access(provider: nil, shown: isSecret ? nil : shown, isSecret: isSecret, failedProvider: nil, usedDefault: true)
        }
    }

    /// `key` and everything under it count as read.
    func touched(_ key: String) {
        _ = state.withLock { $0.subtrees.insert(key) }
    }

    /// Every key asked for, and the paths read whole.
    var asked: (accesses: [String: Access], subtrees: Set<String>) { state.withLock { ($0.accesses, $0.subtrees) } }

    static func show(_ content: ConfigContent) -> String {
        switch content {
        case .string(let text): text
        case .int(let number): "\(number)"
        case .double(let number): "\(number)"
        case .bool(let flag): "\(flag)"
        case .bytes(let bytes): "<\(bytes.count) bytes>"
        case .stringArray(let list): "[\(list.joined(separator: ", "))]"
        case .intArray(let list): "[\(list.map(String.init).joined(separator: ", "))]"
        case .doubleArray(let list): "[\(list.map { "\($0)" }.joined(separator: ", "))]"
        case .boolArray(let list): "[\(list.map { "\($0)" }.joined(separator: ", "))]"
        case .byteChunkArray(let list): "<\(list.count) byte chunks>"
        }
    }
}
