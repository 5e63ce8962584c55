import NIOSSL
import SwiftASN1
import X509

/// Who is on the other end of a connection: the subject common name of the verified peer
/// certificate, and that certificate's serial number (for the revocation list).
public struct PeerIdentity: Sendable, Hashable, CustomStringConvertible {
    public var name: String
    /// The certificate's serial number in upper-case hex (empty when not known).
    public var serial: String

    public init(_ name: String, serial: String = "") {
        self.name = name
        self.serial = serial
    }

    public var description: String { name }

    /// The CN of `certificate`'s subject (the last one, if several), or `nil`.
    public init?(certificate: NIOSSLCertificate) {
        guard let der = try? certificate.toDERBytes(), let parsed = try? Certificate(derEncoded: der) else {
            return nil
        }
        self.init(certificate: parsed)
    }

    /// The CN and serial of a parsed certificate, or `nil` without a CN.
    public init?(certificate: Certificate) {
        var commonName: String?
        for rdn in certificate.subject {
            for attribute in rdn where attribute.type == .RDNAttributeType.commonName {
                commonName = String(describing: attribute.value)
            }
        }
        guard let commonName, !commonName.isEmpty else { return nil }
        self.name = commonName
        self.serial = Self.hex(certificate.serialNumber.bytes)
    }

    /// Upper-case hex of a serial number's bytes, as the revocation list holds it.
    public static func hex(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
