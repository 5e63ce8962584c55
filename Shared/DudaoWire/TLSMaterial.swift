import NIOConcurrencyHelpers
import NIOSSL

/// A service's TLS contexts and revocation list, read from its ``TLSFiles`` and replaced as a
/// whole by ``reload()`` (SIGHUP). New connections use what is current; open ones keep theirs.
public final class TLSMaterial: ServerTLSSource, ClientTLSSource {
    public struct Loaded: Sendable {
        public var server: NIOSSLContext
        public var client: NIOSSLContext
        public var revocation: RevocationList
    }

    public let files: TLSFiles
    private let state: NIOLockedValueBox<Loaded>

    /// Reads every file; nothing is half-loaded.
    public init(files: TLSFiles) throws(TLSMaterialError) {
        self.files = files
        state = NIOLockedValueBox(try Self.load(files))
    }

    public var current: Loaded { state.withLockedValue { $0 } }
    public var server: NIOSSLContext { current.server }
    public var client: NIOSSLContext { current.client }
    public var revocation: RevocationList { current.revocation }

    /// Reads the files again and swaps them in; on any error the old material stays in force.
    public func reload() throws(TLSMaterialError) {
        let loaded = try Self.load(files)
        state.withLockedValue { $0 = loaded }
    }

    private static func load(_ files: TLSFiles) throws(TLSMaterialError) -> Loaded {
        let revocation = try files.revokedPath.map { path throws(TLSMaterialError) in try RevocationList(path: path) } ?? .empty
        do {
            return Loaded(server: try files.makeServerContext(), client: try files.makeClientContext(), revocation: revocation)
        } catch {
            throw TLSMaterialError(
                "cannot use the TLS files (ca \(files.caPath), certificate \(files.certificatePath), key \(files.keyPath)): \(error)")
        }
    }
}

/// What a listening port needs of TLS for each new connection: the context and the revocation list.
public protocol ServerTLSSource: Sendable {
    var server: NIOSSLContext { get }
    var revocation: RevocationList { get }
}

extension NIOSSLContext: ServerTLSSource {
    /// A fixed context: itself, with nothing revoked.
    public var server: NIOSSLContext { self }
    public var revocation: RevocationList { .empty }
}

/// What a long-lived client (a log consumer, an outbox sender) needs for each new connection.
public protocol ClientTLSSource: Sendable {
    var client: NIOSSLContext { get }
}

extension NIOSSLContext: ClientTLSSource {
    /// A fixed context: itself.
    public var client: NIOSSLContext { self }
}
