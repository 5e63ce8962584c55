import Foundation
import SwiftASN1
import X509

/// The CA host's list of revoked certificates, `DIR/revoked.json`:
/// `{"serials": ["HEX", …], "identities": ["NAME", …]}` (read by every port as `tls.revoked`).
public enum RevocationFile {
    /// Adds the serial of the certificate at `certificatePath` (and, with `wholeIdentity`, its
    /// CN) to DIR/revoked.json. Returns (serial, identity).
    @discardableResult
    public static func revoke(certificateAt certificatePath: String, in directory: String, wholeIdentity: Bool) throws -> (String, String) {
        let certificate: Certificate
        do {
            certificate = try Certificate(pemEncoded: try PEMFiles.read(certificatePath))
        } catch let error as CertificateIssuerError {
            throw error
        } catch {
            throw CertificateIssuerError(.unreadableFile, "\(certificatePath) is not a PEM certificate: \(error)")
        }
        let serial = hex(certificate.serialNumber.bytes)
        let identity = CertificateRequest.commonName(of: certificate.subject) ?? ""
        try add(serials: [serial], identities: wholeIdentity ? [identity] : [], in: directory)
        return (serial, identity)
    }

    /// Adds serials (hex) and identities to DIR/revoked.json, creating it if needed.
    public static func add(serials: [String], identities: [String], in directory: String) throws {
        let path = self.path(in: directory)
        var current = (serials: Set<String>(), identities: Set<String>())
        if PEMFiles.exists(path) {
            guard let data = FileManager.default.contents(atPath: path),
                let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
            else { throw CertificateIssuerError(.unreadableFile, "\(path) is not a JSON object") }
            current.serials = Set(object["serials"] as? [String] ?? [])
            current.identities = Set(object["identities"] as? [String] ?? [])
        }
        current.serials.formUnion(serials.map { $0.uppercased() })
        current.identities.formUnion(identities)
        let json: [String: Any] = ["serials": current.serials.sorted(), "identities": current.identities.sorted()]
        let data = try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys])
        try PEMFiles.write(String(decoding: data, as: UTF8.self), to: path, privateKey: false)
    }

    public static func path(in directory: String) -> String { CertificateIssuer.path(directory, "revoked", "json") }

    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        bytes.map { String(format: "%02X", $0) }.joined()
    }
}
