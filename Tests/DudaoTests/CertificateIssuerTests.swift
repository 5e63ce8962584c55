import DudaoCerts
import Foundation
import SwiftASN1
import Testing
import X509

/// Tests for ``CertificateIssuer``: CA creation and reuse, leaf contents, file handling, name checks.
@Suite struct CertificateIssuerTests {
    /// A fresh temporary directory (not yet created) for one test.
    private func temporaryDirectory() -> String {
        FileManager.default.temporaryDirectory
            .appendingPathComponent("dudao-certs-\(UUID().uuidString)").appendingPathComponent("certs").path
    }

    /// Removes the per-test parent folder made by ``temporaryDirectory()``.
    private func removeTemporary(_ directory: String) {
        try? FileManager.default.removeItem(atPath: (directory as NSString).deletingLastPathComponent)
    }

    private func load(_ path: String) throws -> Certificate {
        try Certificate(pemEncoded: String(contentsOfFile: path, encoding: .utf8))
    }

    private func commonName(_ name: DistinguishedName) -> String? {
        name.lazy.flatMap { $0 }.first { $0.type == .RDNAttributeType.commonName }.flatMap { String($0.value) }
    }

    @Test func issuesLeavesSignedByTheCA() throws {
        let directory = temporaryDirectory()
        defer { removeTemporary(directory) }
        let issuer = try CertificateIssuer(directory: directory)
        #expect(issuer.caPath == directory + "/ca.pem")

        let ca = try load(issuer.caPath)
        #expect(commonName(ca.subject)?.hasPrefix("Dudao CA ") == true)
        #expect(ca.issuer == ca.subject)
        #expect(try ca.extensions.basicConstraints == .isCertificateAuthority(maxPathLength: nil))
        #expect(try ca.extensions.keyUsage == KeyUsage(keyCertSign: true, cRLSign: true))
        #expect(ca.publicKey.isValidSignature(ca.signature, for: ca))
        let caDays = ca.notValidAfter.timeIntervalSince(ca.notValidBefore) / 86_400
        #expect(abs(caDays - 3650) < 0.01)

        for name in ["dudao-ingest", "dudao-notify"] {
            #expect(try issuer.issue(name: name))
            let leaf = try load(directory + "/\(name).pem")
            #expect(commonName(leaf.subject) == name)
            #expect(leaf.issuer == ca.subject)
            #expect(ca.publicKey.isValidSignature(leaf.signature, for: leaf))
            #expect(try leaf.extensions.basicConstraints == .notCertificateAuthority)
            let eku = try #require(try leaf.extensions.extendedKeyUsage)
            #expect(eku.contains(.serverAuth) && eku.contains(.clientAuth))
            let san = try #require(try leaf.extensions.subjectAlternativeNames)
            #expect(Array(san) == [
                .dnsName(name), .dnsName("localhost"),
                .ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1])),
                .ipAddress(ASN1OctetString(contentBytes: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1])),
            ])
            let days = leaf.notValidAfter.timeIntervalSince(leaf.notValidBefore) / 86_400
            #expect(abs(days - 825) < 0.01)
            #expect(leaf.notValidBefore <= Date())

            let keyPath = directory + "/\(name).key"
            let keyPEM = try String(contentsOfFile: keyPath, encoding: .utf8)
            #expect(keyPEM.hasPrefix("-----BEGIN PRIVATE KEY-----\n"))
            #expect(keyPEM.hasSuffix("-----END PRIVATE KEY-----\n"))
            let key = try Certificate.PrivateKey(pemEncoded: keyPEM)
            #expect(key.publicKey == leaf.publicKey)
            let mode = try FileManager.default.attributesOfItem(atPath: keyPath)[.posixPermissions] as? Int
            #expect(mode == 0o600)
        }
        let caMode = try FileManager.default.attributesOfItem(atPath: directory + "/ca.key")[.posixPermissions] as? Int
        #expect(caMode == 0o600)
    }

    @Test func reusesTheCAAndKeepsExistingLeaves() throws {
        let directory = temporaryDirectory()
        defer { removeTemporary(directory) }
        let first = try CertificateIssuer(directory: directory, validityDays: 30)
        let caBytes = try Data(contentsOf: URL(fileURLWithPath: first.caPath))
        #expect(try first.issue(name: "dudao-safety"))
        let leafPath = directory + "/dudao-safety.pem"
        let leafBytes = try Data(contentsOf: URL(fileURLWithPath: leafPath))

        let second = try CertificateIssuer(directory: directory)
        #expect(try Data(contentsOf: URL(fileURLWithPath: second.caPath)) == caBytes)
        #expect(try second.issue(name: "dudao-safety") == false)
        #expect(try Data(contentsOf: URL(fileURLWithPath: leafPath)) == leafBytes)

        #expect(try second.issue(name: "dudao-safety", overwrite: true))
        let replaced = try load(leafPath)
        #expect(try Data(contentsOf: URL(fileURLWithPath: leafPath)) != leafBytes)
        #expect(try load(second.caPath).publicKey.isValidSignature(replaced.signature, for: replaced))
    }

    @Test func refusesAnIncompleteCA() throws {
        let directory = temporaryDirectory()
        defer { removeTemporary(directory) }
        _ = try CertificateIssuer(directory: directory)
        try FileManager.default.removeItem(atPath: directory + "/ca.key")
        let error = #expect(throws: CertificateIssuerError.self) { try CertificateIssuer(directory: directory) }
        #expect(error?.kind == .incompleteCA)
        #expect(error?.message.contains("ca.key") == true)
    }

    @Test func refusesACAKeyThatDoesNotMatch() throws {
        let directory = temporaryDirectory()
        defer { removeTemporary(directory) }
        _ = try CertificateIssuer(directory: directory)
        let other = temporaryDirectory()
        defer { removeTemporary(other) }
        _ = try CertificateIssuer(directory: other)
        try FileManager.default.removeItem(atPath: directory + "/ca.key")
        try FileManager.default.copyItem(atPath: other + "/ca.key", toPath: directory + "/ca.key")
        let error = #expect(throws: CertificateIssuerError.self) { try CertificateIssuer(directory: directory) }
        #expect(error?.kind == .keyMismatch)
    }

    @Test func refusesInvalidAndReservedNames() throws {
        let directory = temporaryDirectory()
        defer { removeTemporary(directory) }
        let issuer = try CertificateIssuer(directory: directory)
        for name in ["", "a/b", "../x", "has space", "ünï", String(repeating: "x", count: 65)] {
            #expect(!CertificateNames.isValid(name))
            let error = #expect(throws: CertificateIssuerError.self) { try issuer.issue(name: name) }
            #expect(error?.kind == .invalidName)
        }
        for name in ["ca", "CA"] {
            let error = #expect(throws: CertificateIssuerError.self) { try issuer.issue(name: name) }
            #expect(error?.kind == .reservedName)
        }
        #expect(CertificateNames.isValid("dudao-ingest.v2_a"))
        #expect(CertificateNames.isValid(String(repeating: "x", count: 64)))
        #expect(CertificateNames.services == ["dudao-ingest", "dudao-indicators", "dudao-safety", "dudao-notify"])
        #expect(CertificateNames.services.allSatisfy(CertificateNames.isValid))
    }
}
