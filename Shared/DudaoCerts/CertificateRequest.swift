import Crypto
import Foundation
import SwiftASN1
import X509

/// A key and certificate signing request made on the host that will use them: the private key
/// stays there (NAME.key, 0600); only NAME.csr travels to the CA host, and NAME.pem back.
public enum CertificateRequest {
    /// Writes DIR/NAME.key and DIR/NAME.csr, the CSR asking for `dnsNames` and `ipAddresses` in
    /// the SAN (none: the local default). Refuses to replace an existing key unless `overwrite`.
    /// Returns the CSR's path.
    @discardableResult
    public static func make(
        name: String, directory: String, dnsNames: [String] = [], ipAddresses: [String] = [], overwrite: Bool = false
    ) throws -> String {
        try CertificateIssuer.checkName(name)
        try PEMFiles.createDirectory(directory)
        let keyPath = CertificateIssuer.path(directory, name, "key")
        let csrPath = CertificateIssuer.path(directory, name, "csr")
        if PEMFiles.exists(keyPath) && !overwrite {
            throw CertificateIssuerError(.writeFailed, "\(keyPath) exists; pass --force to make a new key")
        }
        let profile = CertificateProfile(role: .client, dnsNames: dnsNames, ipAddresses: ipAddresses)
        let key = P256.Signing.PrivateKey()
        let csr: CertificateSigningRequest
        do {
            let extensions = try Certificate.Extensions {
                SubjectAlternativeNames(try profile.alternativeNames(for: name))
            }
            let attributes = CertificateSigningRequest.Attributes([
                try CertificateSigningRequest.Attribute(ExtensionRequest(extensions: extensions))
            ])
            csr = try CertificateSigningRequest(
                version: .v1, subject: try DistinguishedName { CommonName(name) }, privateKey: Certificate.PrivateKey(key),
                attributes: attributes, signatureAlgorithm: .ecdsaWithSHA256)
        } catch let error as CertificateIssuerError {
            throw error
        } catch {
            throw CertificateIssuerError(.signingFailed, "cannot make the request for \"\(name)\": \(error)")
        }
        try PEMFiles.write(key.pemRepresentation, to: keyPath, privateKey: true)
        let pem: String
        do { pem = try csr.serializeAsPEM().pemString } catch {
            throw CertificateIssuerError(.signingFailed, "cannot encode the request for \"\(name)\": \(error)")
        }
        try PEMFiles.write(pem, to: csrPath, privateKey: false)
        return csrPath
    }

    /// The last CN of a distinguished name.
    static func commonName(of name: DistinguishedName) -> String? {
        var found: String?
        for rdn in name {
            for attribute in rdn where attribute.type == .RDNAttributeType.commonName {
                found = String(describing: attribute.value)
            }
        }
        return found
    }
}
