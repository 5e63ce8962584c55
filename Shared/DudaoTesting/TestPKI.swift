import DudaoCerts
import DudaoWire
import Foundation
import NIOSSL

/// Certificates for a test: a CA with the services, an operator and a few integrators, plus a
/// second, unrelated CA whose certificates must be refused.
public struct TestPKI: Sendable {
    public let directory: String
    public let otherDirectory: String

    /// Identities issued by the main CA.
    public static let identities = CertificateNames.services + [
        "operator", "town-dongcheng", "police-video-platform", "kg-census-system", "stranger",
    ]

    public init(in root: TestDirectory) throws {
        directory = root.file("certs")
        otherDirectory = root.file("other-ca")
        let issuer = try CertificateIssuer(directory: directory)
        for name in Self.identities { try issuer.issue(name: name) }
        let other = try CertificateIssuer(directory: otherDirectory)
        try other.issue(name: "operator")
    }

    public func files(_ name: String) -> TLSFiles { TLSFiles(directory: directory, name: name) }

    public func clientContext(_ name: String) throws -> NIOSSLContext { try files(name).makeClientContext() }

    /// A client presenting `operator` from the unrelated CA (but trusting the real CA).
    public func foreignClientContext() throws -> NIOSSLContext {
        try TLSFiles(caPath: "\(directory)/ca.pem", certificatePath: "\(otherDirectory)/operator.pem", keyPath: "\(otherDirectory)/operator.key")
            .makeClientContext()
    }

    /// A client with no certificate at all.
    public func anonymousClientContext() throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile("\(directory)/ca.pem"))
        configuration.certificateVerification = .noHostnameVerification
        return try NIOSSLContext(configuration: configuration)
    }

    /// The access file the tests use.
    public static let accessFile = """
        {"identities": {
          "dudao-indicators": {"role": "service"},
          "dudao-safety": {"role": "service"},
          "operator": {"role": "operator"},
          "kg-census-system": {"feeds": ["registry.*", "population.*", "preschool.*", "compulsory.*", "special.*", "finance.*", "survey.*", "talent.*", "project.*"]},
          "police-video-platform": {"feeds": ["safety.*"]},
          "town-dongcheng": {"feeds": ["registry.institution", "preschool.census", "safety.inventory"], "queries": ["indicators.*"], "towns": ["dongcheng"]}
        }}
        """
}
