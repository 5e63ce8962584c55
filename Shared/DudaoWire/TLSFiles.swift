import NIOSSL

/// The three PEM files a Dudao endpoint needs: the CA that signs every peer, and its own
/// certificate and private key.
public struct TLSFiles: Sendable, Equatable {
    public var caPath: String
    public var certificatePath: String
    public var keyPath: String

    public init(caPath: String, certificatePath: String, keyPath: String) {
        self.caPath = caPath
        self.certificatePath = certificatePath
        self.keyPath = keyPath
    }

    /// The conventional files for `name` in a directory made by `dudao certs init`:
    /// `ca.pem`, `NAME.pem`, `NAME.key`.
    public init(directory: String, name: String) {
        self.init(caPath: "\(directory)/ca.pem", certificatePath: "\(directory)/\(name).pem", keyPath: "\(directory)/\(name).key")
    }

    /// A server context that requires a client certificate signed by the CA.
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
    /// The server is verified against the CA; its name is checked against `serverName` when the
    /// caller passes one to the handler.
    public func makeClientContext() throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateChain = try NIOSSLCertificate.fromPEMFile(certificatePath).map { .certificate($0) }
        configuration.privateKey = .privateKey(try NIOSSLPrivateKey(file: keyPath, format: .pem))
        configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caPath))
        configuration.certificateVerification = .noHostnameVerification
        configuration.minimumTLSVersion = .tlsv12
        return try NIOSSLContext(configuration: configuration)
    }
}
