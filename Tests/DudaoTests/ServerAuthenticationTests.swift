import DudaoCerts
import DudaoCore
import DudaoTesting
import DudaoWire
import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import Testing

/// Clients verify the server they reached: its CA, its purpose (serverAuth), the name dialled
/// in its SAN, and its identity. Any other CA-signed certificate is refused.
@Suite struct ServerAuthenticationTests {
    /// A frame server on loopback presenting `name`'s certificate from `directory`.
    static func server(_ files: TLSFiles) async throws -> FrameServer {
        try await FrameServer.start(
            configuration: FrameServerConfiguration(port: 0), tls: try files.makeServerContext(),
            group: MultiThreadedEventLoopGroup.singleton, factory: EchoSessions(), logger: Logger(label: "test"))
    }

    @Test func aServerWithAnotherServicesCertificateIsRefused() async throws {
        let root = try TestDirectory("server-auth")
        defer { root.remove() }
        let pki = try TestPKI(in: root)
        let impostor = try await Self.server(pki.files("dudao-notify"))
        defer { Task { await impostor.close() } }
        // The same CA, a valid service certificate, but not the identity the client dialled.
        let error = await #expect(throws: WireClientError.self) {
            _ = try await WireClient.connect(
                host: "127.0.0.1", port: impostor.port, tls: try pki.clientContext("dudao-safety"), serverIdentity: "dudao-ingest")
        }
        #expect(error == .wrongServer(expected: "dudao-ingest", presented: "dudao-notify", address: "127.0.0.1:\(impostor.port)"))
        #expect("\(error!)".contains("expected identity dudao-ingest, it presented dudao-notify"))
        // The right identity is accepted by the same client.
        let client = try await WireClient.connect(
            host: "127.0.0.1", port: impostor.port, tls: try pki.clientContext("dudao-safety"), serverIdentity: "dudao-notify")
        await client.close()
    }

    @Test func anIntegratorCertificateCannotServe() async throws {
        let root = try TestDirectory("server-auth")
        defer { root.remove() }
        let pki = try TestPKI(in: root)
        // town-dongcheng's certificate is clientAuth only: even a client that checks no
        // identity refuses it as a server.
        let impostor = try await Self.server(pki.files("town-dongcheng"))
        defer { Task { await impostor.close() } }
        let error = await #expect(throws: WireClientError.self) {
            _ = try await WireClient.connect(
                host: "127.0.0.1", port: impostor.port, tls: try pki.clientContext("operator"), serverIdentity: "dudao-ingest")
        }
        // The refusal names both identities, though the certificate never verified.
        guard case .untrustedServer(let expected, let presented, _, _) = error else {
            Issue.record("not untrustedServer: \(String(describing: error))")
            return
        }
        #expect(expected == "dudao-ingest" && presented == "town-dongcheng")
    }

    @Test func theNameDialledMustBeInTheServersCertificate() async throws {
        let root = try TestDirectory("server-auth")
        defer { root.remove() }
        let pki = try TestPKI(in: root)
        let issuer = try CertificateIssuer(directory: pki.directory)
        // A real dudao-ingest certificate, but for another host.
        let elsewhere = root.file("elsewhere")
        try issuer.issue(
            name: "dudao-ingest",
            profile: CertificateProfile(role: .service, dnsNames: ["ingest.edu.example"], ipAddresses: ["10.231.0.2"]), overwrite: true)
        try FileManager.default.createDirectory(atPath: elsewhere, withIntermediateDirectories: true)
        for suffix in ["pem", "key"] {
            try FileManager.default.moveItem(atPath: "\(pki.directory)/dudao-ingest.\(suffix)", toPath: "\(elsewhere)/dudao-ingest.\(suffix)")
        }
        let server = try await Self.server(
            TLSFiles(caPath: "\(pki.directory)/ca.pem", certificatePath: "\(elsewhere)/dudao-ingest.pem", keyPath: "\(elsewhere)/dudao-ingest.key"))
        defer { Task { await server.close() } }
        for host in ["127.0.0.1", "localhost"] {
            await #expect(throws: (any Error).self, "dialled as \(host)") {
                _ = try await WireClient.connect(
                    host: host, port: server.port, tls: try pki.clientContext("operator"), serverIdentity: "dudao-ingest")
            }
        }
    }

    @Test func certificatesMadeByRequestAndSignCarryTheirNamesAndRole() throws {
        let root = try TestDirectory("server-auth")
        defer { root.remove() }
        let ca = try CertificateIssuer(directory: root.file("ca"))
        let host = root.file("psb-host")
        let csr = try CertificateRequest.make(name: "dudao-safety", directory: host, dnsNames: ["safety.psb.test"], ipAddresses: ["10.231.0.3"])
        let pem = try ca.sign(requestAt: csr)
        #expect(pem == "\(host)/dudao-safety.pem")
        // The key never left the host folder; the CA folder holds no key of dudao-safety.
        #expect(FileManager.default.fileExists(atPath: "\(host)/dudao-safety.key"))
        #expect(!FileManager.default.fileExists(atPath: root.file("ca/dudao-safety.key")))
        let text = try openssl(["x509", "-in", pem, "-noout", "-text"])
        #expect(text.contains("DNS:safety.psb.test, IP Address:10.231.0.3"))
        #expect(text.contains("TLS Web Server Authentication, TLS Web Client Authentication"))
        // The CA keeps a copy, so revoking by name finds it.
        #expect(FileManager.default.fileExists(atPath: root.file("ca/issued/dudao-safety.pem")))
        // An integrator's request is signed clientAuth only.
        let townCSR = try CertificateRequest.make(name: "town-dongcheng", directory: root.file("town"))
        let townText = try openssl(["x509", "-in", try ca.sign(requestAt: townCSR), "-noout", "-text"])
        #expect(townText.contains("TLS Web Client Authentication"))
        #expect(!townText.contains("TLS Web Server Authentication"))
        // A tampered request is refused.
        var tampered = try String(contentsOfFile: csr, encoding: .utf8)
        let middle = tampered.index(tampered.startIndex, offsetBy: 120)
        tampered.replaceSubrange(middle...middle, with: tampered[middle] == "A" ? "B" : "A")
        try tampered.write(toFile: csr, atomically: true, encoding: .utf8)
        #expect(throws: CertificateIssuerError.self) { try ca.sign(requestAt: csr) }
    }

    func openssl(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}

/// Answers every query with an empty result (a stand-in server for the handshake tests).
struct EchoSessions: FrameSessionFactory {
    func makeSession(peer: PeerIdentity, channel: any Channel) -> any FrameSession { EchoSession(eventLoop: channel.eventLoop) }
}

final class EchoSession: FrameSession {
    let eventLoop: any EventLoop
    init(eventLoop: any EventLoop) { self.eventLoop = eventLoop }
    func handle(_ envelope: Envelope) -> EventLoopFuture<JSONValue?> {
        eventLoop.makeSucceededFuture(["v": 1, "kind": "result", "id": .string(envelope.id), "body": [:]])
    }
    func connectionClosed() {}
}
