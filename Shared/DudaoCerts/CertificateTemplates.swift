import Crypto
import Foundation
import SwiftASN1
import X509

/// Builds and signs the CA and leaf certificates written by ``CertificateIssuer``.
enum CertificateTemplates {
    /// Validity of leaf certificates: 825 days, the longest TLS server certificate Apple platforms accept.
    static let leafValidityDays = 825

    /// How far `notValidBefore` is backdated, to tolerate clock skew between hosts.
    static let backdating: TimeInterval = 5 * 60

    /// A self-signed P-256 CA certificate: CA:true (critical), keyCertSign + cRLSign (critical).
    static func makeCA(key: P256.Signing.PrivateKey, validityDays: Int, now: Date = Date()) throws -> Certificate {
        let suffix = String(UInt32.random(in: 0...UInt32.max), radix: 16, uppercase: true)
        let name = try DistinguishedName { CommonName("Dudao CA \(suffix)") }
        let publicKey = Certificate.PublicKey(key.publicKey)
        let extensions = try Certificate.Extensions {
            Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
            Critical(KeyUsage(keyCertSign: true, cRLSign: true))
            SubjectKeyIdentifier(hash: publicKey)
        }
        let (notBefore, notAfter) = validity(days: validityDays, now: now)
        return try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: publicKey,
            notValidBefore: notBefore, notValidAfter: notAfter, issuer: name, subject: name,
            signatureAlgorithm: .ecdsaWithSHA256, extensions: extensions,
            issuerPrivateKey: Certificate.PrivateKey(key))
    }

    /// A leaf for identity `name` signed by the CA: CN `name`, the profile's SAN and EKU
    /// (service: serverAuth + clientAuth, client: clientAuth); CA:false; digitalSignature.
    static func makeLeaf(
        name: String, publicKey: Certificate.PublicKey, profile: CertificateProfile, alternativeNames: [GeneralName],
        ca: Certificate, caKey: Certificate.PrivateKey, now: Date = Date()
    ) throws -> Certificate {
        let subject = try DistinguishedName { CommonName(name) }
        let caKeyID = try ca.extensions.subjectKeyIdentifier?.keyIdentifier
            ?? SubjectKeyIdentifier(hash: ca.publicKey).keyIdentifier
        let extensions = try Certificate.Extensions {
            Critical(BasicConstraints.notCertificateAuthority)
            Critical(KeyUsage(digitalSignature: true))
            try ExtendedKeyUsage(profile.extendedKeyUsage)
            SubjectAlternativeNames(alternativeNames)
            SubjectKeyIdentifier(hash: publicKey)
            AuthorityKeyIdentifier(keyIdentifier: caKeyID)
        }
        let (notBefore, notAfter) = validity(days: leafValidityDays, now: now)
        return try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: publicKey,
            notValidBefore: notBefore, notValidAfter: notAfter, issuer: ca.subject, subject: subject,
            signatureAlgorithm: .ecdsaWithSHA256, extensions: extensions,
            issuerPrivateKey: caKey)
    }

    /// DNS `name` and `localhost` (once each), then IP 127.0.0.1 and ::1.
    static func alternativeNames(for name: String) -> [GeneralName] {
        let dnsNames = name == "localhost" ? ["localhost"] : [name, "localhost"]
        let loopbackV4: [UInt8] = [127, 0, 0, 1]
        let loopbackV6: [UInt8] = Array(repeating: 0, count: 15) + [1]
        return dnsNames.map { GeneralName.dnsName($0) } + [
            .ipAddress(ASN1OctetString(contentBytes: loopbackV4[...])),
            .ipAddress(ASN1OctetString(contentBytes: loopbackV6[...])),
        ]
    }

    /// `notValidBefore` slightly in the past; the total span is exactly `days` days.
    private static func validity(days: Int, now: Date) -> (Date, Date) {
        let notBefore = now.addingTimeInterval(-backdating)
        return (notBefore, notBefore.addingTimeInterval(TimeInterval(days) * 86_400))
    }
}
