import NIOSSL

/// The PEM files a Dudao endpoint needs: the CA that signs every peer, its own certificate and
/// private key, and optionally the revocation list its listening port applies.
public struct TLSFiles: Sendable, Equatable {
    public var caPath: String
    public var certificatePath: String
    public var keyPath: String
    /// `tls.revoked`: a ``RevocationList`` file; `nil`: nothing is revoked.
    public var revokedPath: String?

    public init(caPath: String, certificatePath: String, keyPath: String, revokedPath: String? = nil) {
        self.caPath = caPath
        self.certificatePath = certificatePath
        self.keyPath = keyPath
        self.revokedPath = revokedPath
    }

    /// The conventional files for `name` in a directory made by `dudao certs init`:
    /// `ca.pem`, `NAME.pem`, `NAME.key`.
    public init(directory: String, name: String) {
        self.init(caPath: "\(directory)/ca.pem", certificatePath: "\(directory)/\(name).pem", keyPath: "\(directory)/\(name).key")
    }

    /// A server context that requires a client certificate signed by the CA (with the
    /// clientAuth purpose, which BoringSSL checks for a server).
    ///
    /// Hostname verification of the *client* is off: a client's certificate names a person or
    /// service, not the IP it connects from (see FACTS.md: `.fullVerification` on a server
    /// rejects every valid client).
    public func makeServerContext() throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(certificatePath).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: keyPath, format: .pem)))
        configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caPath))
        configuration.certificateVerification = .noHostnameVerification
        configuration.minimumTLSVersion = .tlsv12
        return try NIOSSLContext(configuration: configuration)
    }

    /// A client context that presents this certificate and trusts only the CA.
    ///
    /// Full verification: the server's chain (with the serverAuth purpose, so an integrator's
    /// clientAuth-only certificate cannot serve) and the name dialled — a DNS name given to the
    /// TLS handler, or, for an IP address, the address connected to — against its SAN.
    /// ``WireClient`` then checks the server's identity (its CN).
    public func makeClientContext() throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateChain = try NIOSSLCertificate.fromPEMFile(certificatePath).map { .certificate($0) }
        configuration.privateKey = .privateKey(try NIOSSLPrivateKey(file: keyPath, format: .pem))
        configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caPath))
        configuration.certificateVerification = .fullVerification
        configuration.minimumTLSVersion = .tlsv12
        return try NIOSSLContext(configuration: configuration)
    }
}
