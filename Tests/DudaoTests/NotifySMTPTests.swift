import DudaoCore
import DudaoTesting
import DudaoWire
import Foundation
import Testing

/// E-mail over real SMTP: a server on loopback that offers STARTTLS and AUTH PLAIN.
@Suite(.serialized) struct NotifySMTPTests {
    /// `ca`: the CA trusted for STARTTLS (default: the fixture's own, which did not sign the SMTP server).
    static func routes(port: Int, starttls: String, ca: String = "certs/ca.pem") -> String {
        """
        {"routes": [{"match": {}, "to": ["education"]}],
         "defaults": {"group_wait_seconds": 0},
         "smtp": {"host": "127.0.0.1", "port": \(port), "starttls": "\(starttls)", "tls_ca": "\(ca)",
                  "username": "dudao", "password": "p@ss", "from": "dudao@jyj.enping.example", "timeout_seconds": 5},
         "departments": {"education": {"channels": [{"type": "email", "to": ["duty@jyj.enping.example", "chief@jyj.enping.example"]}]}},
         "town_names": {"dongcheng": "东成镇"}}
        """
    }

    @Test func anAlertArrivesAsAChineseEmailOverSTARTTLS() async throws {
        let root = try TestDirectory("smtp-pki")
        defer { root.remove() }
        let pki = try TestPKI(in: root)
        let smtp = try await NotifySMTPServer.start(tls: try NotifySMTPServer.tlsContext(pki: pki))
        let notify = try NotifyFixture(routes: Self.routes(port: smtp.port, starttls: "always", ca: "\(pki.directory)/ca.pem"))
        defer { notify.stop() }
        let alarm = NotifyFixture.event(
            "safety:alarm:a1", type: "safety.alarm", severity: "critical", key: "alarm:a1:1", device: "a1",
            summary: "【一键报警】东成镇 东成镇中心幼儿园 设备 a1 于 2026-11-29 08:00:00 报警：门口有人闹事",
            details: ["institution_name": "东成镇中心幼儿园", "town_name": "东成镇"])
        _ = try await notify.send([alarm])
        let mails = await smtp.wait(for: 1)
        let mail = try #require(mails.first, "\(notify.log)")
        #expect(mail.usedTLS, "STARTTLS was offered and required")
        #expect(mail.authenticatedAs == "dudao")
        #expect(mail.from == "dudao@jyj.enping.example")
        #expect(mail.recipients == ["duty@jyj.enping.example", "chief@jyj.enping.example"])
        #expect(mail.header("To") == "duty@jyj.enping.example, chief@jyj.enping.example")
        #expect(mail.decodedHeader("From") == "督导 Dudao <dudao@jyj.enping.example>")
        #expect(mail.decodedHeader("Subject") == "【督导告警·严重】一键报警｜东成镇中心幼儿园（东成镇）")
        #expect(mail.header("Subject")?.hasPrefix("=?UTF-8?B?") == true, "RFC 2047 encoded-word")
        #expect(mail.header("Content-Type") == "text/plain; charset=UTF-8")
        #expect(mail.header("Content-Transfer-Encoding") == "base64")
        #expect(mail.header("MIME-Version") == "1.0")
        #expect(mail.header("Message-ID")?.hasSuffix("@dudao-notify>") == true)
        #expect(mail.header("Date")?.hasSuffix("+0800") == true)
        #expect(mail.header("X-Dudao-Severity") == "critical")
        #expect(mail.header("X-Dudao-Redelivery") == nil, "a first attempt is not marked")
        let body = mail.decodedBody
        #expect(body.contains("摘要：【一键报警】东成镇 东成镇中心幼儿园 设备 a1 于 2026-11-29 08:00:00 报警：门口有人闹事"))
        #expect(body.contains("开始：2026-11-29 08:00:00（UTC+8）"))
        #expect(body.contains("确认：dudao alerts ack \(mail.header("X-Dudao-Alert-Id") ?? "?")"))
        let status = try await notify.waitForStatus { $0["deliveries_delivered"] == 1 }
        #expect(status["deliveries_delivered"] == 1)
        await smtp.stop()
    }

    @Test func withoutSTARTTLSOnOfferTheMailStillGoesInPlainTextWhenAllowed() async throws {
        let smtp = try await NotifySMTPServer.start(tls: nil)
        let notify = try NotifyFixture(routes: Self.routes(port: smtp.port, starttls: "auto"))
        defer { notify.stop() }
        _ = try await notify.send([NotifyDeliveryTests.indicatorEvent("ind-m1")], as: "dudao-indicators")
        let mail = try #require(await smtp.wait(for: 1).first)
        #expect(!mail.usedTLS)
        #expect(mail.decodedBody.contains("数值：92.5%，目标 ≥ 100%"))
        await smtp.stop()
    }

    @Test func aServerWhoseCertificateIsNotTrustedGetsNothing() async throws {
        let root = try TestDirectory("smtp-other-pki")
        defer { root.remove() }
        let smtp = try await NotifySMTPServer.start(tls: try NotifySMTPServer.tlsContext(pki: try TestPKI(in: root)))
        // The fixture trusts its own CA only: the handshake fails, nothing is sent in clear text.
        let notify = try NotifyFixture(
            routes: Self.routes(port: smtp.port, starttls: "auto"), environment: ["DUDAO_NOTIFY_DELIVERY_MAX_ATTEMPTS": "2"])
        defer { notify.stop() }
        _ = try await notify.send([NotifyDeliveryTests.indicatorEvent("ind-m3")], as: "dudao-indicators")
        let status = try await notify.waitForStatus { $0["deliveries_dead"] == 1 }
        #expect(status["deliveries_dead"] == 1)
        #expect(smtp.mails.isEmpty)
        let failed = try await notify.query("alerts.failed")
        #expect(failed["body"]?["deliveries"]?[0]?["last_error"]?.stringValue?.contains("CERTIFICATE_VERIFY_FAILED") == true)
        await smtp.stop()
    }

    @Test func startTLSAlwaysNeverFallsBackToClearText() async throws {
        let smtp = try await NotifySMTPServer.start(tls: nil)
        // `always` with a server that offers no STARTTLS: never sent in clear text; retried, then dead.
        let notify = try NotifyFixture(
            routes: Self.routes(port: smtp.port, starttls: "always"), environment: ["DUDAO_NOTIFY_DELIVERY_MAX_ATTEMPTS": "2"])
        defer { notify.stop() }
        _ = try await notify.send([NotifyDeliveryTests.indicatorEvent("ind-m2")], as: "dudao-indicators")
        let status = try await notify.waitForStatus { $0["deliveries_dead"] == 1 }
        #expect(status["deliveries_dead"] == 1)
        #expect(smtp.mails.isEmpty)
        let failed = try await notify.query("alerts.failed")
        #expect(failed["body"]?["deliveries"]?[0]?["last_error"]?.stringValue?.contains("does not offer STARTTLS") == true)
        await smtp.stop()
    }
}
