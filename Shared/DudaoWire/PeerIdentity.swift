import NIOSSL
import SwiftASN1
import X509

/// Who is on the other end of a connection: the subject common name of the verified client
/// certificate.
public struct PeerIdentity: Sendable, Hashable, CustomStringConvertible {
    public var name: String

    public init(_ name: String) { self.name = name }

    public var description: String { name }

    /// The CN of `certificate`'s subject (the last one, if several), or `nil`.
    public init?(certificate: NIOSSLCertificate) {
        guard let der = try? certificate.toDERBytes(), let parsed = try? Certificate(derEncoded: der) else {
            return nil
        }
        var commonName: String?
        for rdn in parsed.subject {
            for attribute in rdn where attribute.type == .RDNAttributeType.commonName {
                commonName = String(describing: attribute.value)
            }
        }
        guard let commonName, !commonName.isEmpty else { return nil }
        self.name = commonName
    }
}
