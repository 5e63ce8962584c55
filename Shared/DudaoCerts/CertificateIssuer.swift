import Crypto
import Foundation
import SwiftASN1
import X509

/// Issues Dudao's private CA and the leaf certificates services use for mutual TLS.
///
/// All files live in one directory: `ca.pem` / `ca.key` for the CA and `NAME.pem` / `NAME.key`
/// for each identity. Keys are PKCS#8 PEM (`PRIVATE KEY`), mode 0600; certificates are PEM.
public struct CertificateIssuer: Sendable {
    /// The directory holding the CA and issued files.
    public let directory: String
    let caCertificate: Certificate
    let caKey: Certificate.PrivateKey

    /// Creates DIR if needed. If DIR/ca.pem and DIR/ca.key exist, reuses that CA; otherwise makes a new CA (P-256 ECDSA, CN "Dudao CA <random suffix>", basicConstraints CA:true, keyUsage keyCertSign+cRLSign, validity `validityDays`, default 3650).
    ///
    /// `validityDays` only applies to a new CA. If just one of the two CA files exists, this
    /// throws rather than replace it, since a new CA would orphan every certificate already issued.
    /// - Throws: ``CertificateIssuerError``.
    public init(directory: String, validityDays: Int = 3650) throws {
        guard validityDays >= 1 else {
            throw CertificateIssuerError(.invalidValidity, "CA validity must be at least 1 day, got \(validityDays)")
        }
        try PEMFiles.createDirectory(directory)
        let certPath = Self.path(directory, CertificateNames.reservedCAName, "pem")
        let keyPath = Self.path(directory, CertificateNames.reservedCAName, "key")
        switch (PEMFiles.exists(certPath), PEMFiles.exists(keyPath)) {
        case (true, true):
            (caCertificate, caKey) = try Self.loadCA(certPath: certPath, keyPath: keyPath)
        case (false, false):
            (caCertificate, caKey) = try Self.createCA(certPath: certPath, keyPath: keyPath, validityDays: validityDays)
        case (true, false), (false, true):
            let (present, missing) = PEMFiles.exists(certPath) ? (certPath, keyPath) : (keyPath, certPath)
            throw CertificateIssuerError(
                .incompleteCA,
                "\(present) exists but \(missing) is missing; restore it, or remove \(present) to create a new CA")
        }
        self.directory = directory
    }

    /// Where the CA keeps a copy of each certificate it signed from a request (DIR/issued).
    public var issuedDirectory: String { URL(fileURLWithPath: directory).appendingPathComponent("issued").path }

    /// The CA certificate path (DIR/ca.pem).
    public var caPath: String { Self.path(directory, CertificateNames.reservedCAName, "pem") }

    /// The certificate path for identity `name` (DIR/NAME.pem).
    public func certificatePath(for name: String) -> String { Self.path(directory, name, "pem") }

    /// The private key path for identity `name` (DIR/NAME.key).
    public func keyPath(for name: String) -> String { Self.path(directory, name, "key") }

    /// Issues DIR/NAME.pem + DIR/NAME.key (PKCS#8 PEM "PRIVATE KEY", mode 0600) for identity NAME (CN = NAME), P-256, signed by the CA, validity 825 days, with the profile's EKU and SAN (default: the role ``CertificateProfile/defaultRole(for:)`` gives NAME, and NAME, localhost, 127.0.0.1, ::1). If the files exist and `overwrite` is false, keeps them and returns false; returns true when it wrote new ones.
    ///
    /// If only one of the two files exists, both are (re)written.
    /// - Throws: ``CertificateIssuerError`` for a name failing ``CertificateNames/isValid(_:)``,
    ///   the reserved name `ca` (any case), or a signing or write failure.
    @discardableResult
    public func issue(name: String, profile: CertificateProfile? = nil, overwrite: Bool = false) throws -> Bool {
        try Self.checkName(name)
        let certPath = certificatePath(for: name), keyPath = keyPath(for: name)
        if !overwrite && PEMFiles.exists(certPath) && PEMFiles.exists(keyPath) {
            return false
        }
        let key = P256.Signing.PrivateKey()
        let leaf = try sign(
            name: name, publicKey: Certificate.PublicKey(key.publicKey),
            profile: profile ?? CertificateProfile(role: CertificateProfile.defaultRole(for: name)))
        try PEMFiles.write(key.pemRepresentation, to: keyPath, privateKey: true)
        try PEMFiles.write(try Self.pem(leaf, path: certPath), to: certPath, privateKey: false)
        return true
    }

    /// Signs a certificate signing request (made by ``CertificateRequest``) and writes it to
    /// `output` (default: NAME.pem beside the CSR). The CSR's signature must verify; its SAN comes from
    /// the CSR's extension request, its role from `role` (default by name). Returns the path written.
    @discardableResult
    public func sign(requestAt csrPath: String, output: String? = nil, role: CertificateProfile.Role? = nil) throws -> String {
        let csr: CertificateSigningRequest
        do {
            csr = try CertificateSigningRequest(pemEncoded: try PEMFiles.read(csrPath))
        } catch let error as CertificateIssuerError {
            throw error
        } catch {
            throw CertificateIssuerError(.unreadableFile, "\(csrPath) is not a PEM certificate signing request: \(error)")
        }
        guard csr.publicKey.isValidSignature(csr.signature, for: csr) else {
            throw CertificateIssuerError(.unreadableFile, "\(csrPath): the request's signature does not verify")
        }
        guard let name = CertificateRequest.commonName(of: csr.subject) else {
            throw CertificateIssuerError(.invalidName, "\(csrPath): the request names no common name")
        }
        try Self.checkName(name)
        let requested: [GeneralName]
        do {
            requested = try csr.attributes.extensionRequest?.extensions.subjectAlternativeNames.map(Array.init) ?? []
        } catch {
            throw CertificateIssuerError(.unreadableFile, "\(csrPath): cannot read the requested names: \(error)")
        }
        let profile = CertificateProfile(role: role ?? CertificateProfile.defaultRole(for: name))
        let leaf = try sign(
            name: name, publicKey: csr.publicKey, profile: profile,
            alternativeNames: requested.isEmpty ? CertificateTemplates.alternativeNames(for: name) : requested)
        let path = output ?? URL(fileURLWithPath: csrPath).deletingLastPathComponent().appendingPathComponent("\(name).pem").path
        let pem = try Self.pem(leaf, path: path)
        try PEMFiles.write(pem, to: path, privateKey: false)
        // The CA keeps what it signed (DIR/issued/NAME.pem), so `certs revoke DIR NAME` finds it.
        try PEMFiles.createDirectory(issuedDirectory)
        try PEMFiles.write(pem, to: Self.path(issuedDirectory, name, "pem"), privateKey: false)
        return path
    }

    private func sign(
        name: String, publicKey: Certificate.PublicKey, profile: CertificateProfile, alternativeNames: [GeneralName]? = nil
    ) throws -> Certificate {
        let names = try alternativeNames ?? profile.alternativeNames(for: name)
        do {
            return try CertificateTemplates.makeLeaf(
                name: name, publicKey: publicKey, profile: profile, alternativeNames: names, ca: caCertificate, caKey: caKey)
        } catch {
            throw CertificateIssuerError(.signingFailed, "cannot sign the certificate for \"\(name)\": \(error)")
        }
    }

    static func checkName(_ name: String) throws(CertificateIssuerError) {
        guard CertificateNames.isValid(name) else {
            throw CertificateIssuerError(
                .invalidName, "invalid identity name \"\(name)\": use 1-64 characters of A-Z a-z 0-9 . _ -")
        }
        guard name.lowercased() != CertificateNames.reservedCAName else {
            throw CertificateIssuerError(.reservedName, "identity name \"\(name)\" is reserved for the CA's own files")
        }
    }

    static func path(_ directory: String, _ name: String, _ suffix: String) -> String {
        URL(fileURLWithPath: directory).appendingPathComponent("\(name).\(suffix)").path
    }

    private static func loadCA(certPath: String, keyPath: String) throws -> (Certificate, Certificate.PrivateKey) {
        let certificate: Certificate
        let key: Certificate.PrivateKey
        do {
            certificate = try Certificate(pemEncoded: try PEMFiles.read(certPath))
        } catch let error as CertificateIssuerError {
            throw error
        } catch {
            throw CertificateIssuerError(.unreadableFile, "\(certPath) is not a PEM certificate: \(error)")
        }
        do {
            key = Certificate.PrivateKey(try P256.Signing.PrivateKey(pemRepresentation: try PEMFiles.read(keyPath)))
        } catch let error as CertificateIssuerError {
            throw error
        } catch {
            throw CertificateIssuerError(.unreadableFile, "\(keyPath) is not a P-256 private key in PEM: \(error)")
        }
        guard key.publicKey == certificate.publicKey else {
            throw CertificateIssuerError(.keyMismatch, "\(keyPath) is not the private key of the certificate in \(certPath)")
        }
        return (certificate, key)
    }

    private static func createCA(
        certPath: String, keyPath: String, validityDays: Int
    ) throws -> (Certificate, Certificate.PrivateKey) {
        let key = P256.Signing.PrivateKey()
        let certificate: Certificate
        do {
            certificate = try CertificateTemplates.makeCA(key: key, validityDays: validityDays)
        } catch {
            throw CertificateIssuerError(.signingFailed, "cannot create the CA certificate for \(certPath): \(error)")
        }
        let pem = try Self.pem(certificate, path: certPath)
        try PEMFiles.write(key.pemRepresentation, to: keyPath, privateKey: true)
        do {
            try PEMFiles.write(pem, to: certPath, privateKey: false)
        } catch {
            try? FileManager.default.removeItem(atPath: keyPath)  // don't leave a lone ca.key behind
            throw error
        }
        return (certificate, Certificate.PrivateKey(key))
    }

    private static func pem(_ certificate: Certificate, path: String) throws -> String {
        do {
            return try certificate.serializeAsPEM().pemString
        } catch {
            throw CertificateIssuerError(.signingFailed, "cannot encode the certificate for \(path): \(error)")
        }
    }
}
