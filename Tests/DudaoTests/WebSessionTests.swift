import DudaoCore
import Foundation
import Testing

@testable import dudao_web

/// The pure logic of dudao-web: CSRF tokens, sessions, the log-in lockout, forms, town scoping.
@Suite struct WebSessionTests {
    @Test func tokensAreRandomHexAndCompareExactly() {
        let a = Tokens.random(), b = Tokens.random()
        #expect(a.count == 64 && b.count == 64 && a != b)
        #expect(a.allSatisfy { $0.isHexDigit })
        #expect(Tokens.equal(a, a))
        #expect(!Tokens.equal(a, b))
        #expect(!Tokens.equal(a, String(a.dropLast())))
        #expect(!Tokens.equal("", ""))
    }

    @Test func aSessionAcceptsOnlyItsOwnCSRFToken() {
        let store = SessionStore(idleSeconds: 60)
        let one = store.create(username: "zhang")
        let other = store.create(username: nil)
        #expect(one.acceptsCSRF(one.csrf))
        #expect(!one.acceptsCSRF(nil))
        #expect(!one.acceptsCSRF(""))
        #expect(!one.acceptsCSRF(other.csrf))
        #expect(!one.acceptsCSRF(one.id))
    }

    @Test func sessionsExpireWhenIdleAndCanBeRemoved() {
        let store = SessionStore(idleSeconds: 60)
        let start = Date(timeIntervalSince1970: 1_000_000)
        let session = store.create(username: "zhang", now: start)
        #expect(store.session(session.id, now: start.addingTimeInterval(59))?.username == "zhang")
        // The idle clock restarted at the last look.
        #expect(store.session(session.id, now: start.addingTimeInterval(118)) != nil)
        #expect(store.session(session.id, now: start.addingTimeInterval(179)) == nil)
        let second = store.create(username: "li", now: start)
        store.remove(second.id)
        #expect(store.session(second.id, now: start) == nil)
        #expect(store.session("not-a-session", now: start) == nil)
        #expect(store.session(nil, now: start) == nil)
    }

    @Test func fiveFailuresLockTheAccountForFiveMinutes() {
        var throttle = LoginThrottle()
        let start = Date(timeIntervalSince1970: 2_000_000)
        for i in 0..<4 {
            throttle.recordFailure("zhang", now: start.addingTimeInterval(Double(i)))
            #expect(throttle.lockedUntil("zhang", now: start.addingTimeInterval(Double(i))) == nil)
        }
        throttle.recordFailure("zhang", now: start.addingTimeInterval(4))
        #expect(throttle.lockedUntil("zhang", now: start.addingTimeInterval(5)) == start.addingTimeInterval(304))
        #expect(throttle.lockedUntil("zhang", now: start.addingTimeInterval(303)) != nil)
        #expect(throttle.lockedUntil("zhang", now: start.addingTimeInterval(304)) == nil)
        // Other accounts are not affected.
        #expect(throttle.lockedUntil("li", now: start.addingTimeInterval(5)) == nil)
        // After the lock, one failure does not lock again.
        throttle.recordFailure("zhang", now: start.addingTimeInterval(305))
        #expect(throttle.lockedUntil("zhang", now: start.addingTimeInterval(306)) == nil)
    }

    @Test func failuresSpreadBeyondTheWindowDoNotLock() {
        var throttle = LoginThrottle()
        let start = Date(timeIntervalSince1970: 3_000_000)
        for i in 0..<10 { throttle.recordFailure("zhang", now: start.addingTimeInterval(Double(i) * 100)) }
        #expect(throttle.lockedUntil("zhang", now: start.addingTimeInterval(1000)) == nil)
    }

    @Test func successClearsTheFailures() {
        var throttle = LoginThrottle()
        let start = Date(timeIntervalSince1970: 4_000_000)
        for _ in 0..<4 { throttle.recordFailure("zhang", now: start) }
        throttle.recordSuccess("zhang")
        throttle.recordFailure("zhang", now: start)
        #expect(throttle.lockedUntil("zhang", now: start) == nil)
    }

    @Test func formsAreDecoded() {
        let form = WebApp.parseForm("csrf=ab12&username=%E5%BC%A0+%E4%B8%89&password=a%26b%3Dc&empty=&csrf=second")
        #expect(form["csrf"] == "ab12")
        #expect(form["username"] == "张 三")
        #expect(form["password"] == "a&b=c")
        #expect(form["empty"] == "")
        #expect(form["missing"] == nil)
    }

    @Test func townAccountsSeeOnlyTheirTowns() {
        let town = Account(username: "dong", passwordHash: "$2b$", role: .town, towns: ["dongcheng"], name: "李四")
        let bureau = Account(username: "zhang", passwordHash: "$2b$", role: .bureau, towns: nil, name: "张三")
        #expect(town.maySee(town: "dongcheng"))
        #expect(!town.maySee(town: "encheng"))
        #expect(!town.maySee(town: nil))
        #expect(!town.seesCity)
        #expect(bureau.maySee(town: "encheng") && bureau.maySee(town: nil) && bureau.seesCity)
        let overview: JSONValue = [
            "city": ["rates": [], "kindergartens": 2],
            "towns": [
                ["town_id": "encheng", "name": "恩城街道", "rates": []], ["town_id": "dongcheng", "name": "东成镇", "rates": []],
            ],
        ]
        let snapshot = Snapshot(
            overview: overview,
            alarms: [["alert_id": "a1", "town_id": "encheng"], ["alert_id": "a2", "town_id": "dongcheng", "acked_at": "2026-11-29T04:00:00Z"]])
        let model = DashboardView.model(snapshot, for: town)
        #expect(model["towns"]?.arrayValue?.compactMap { $0["town_id"]?.stringValue } == ["dongcheng"])
        #expect(model["city"] == nil)
        #expect(model["alarms"]?.arrayValue?.compactMap { $0["alert_id"]?.stringValue } == ["a2"])
        #expect(model["open_alarms"] == 0)
        let all = DashboardView.model(snapshot, for: bureau)
        #expect(all["towns"]?.arrayValue?.count == 2 && all["city"] != nil && all["open_alarms"] == 1)
    }

    @Test func statusHasColourAndText() {
        #expect(DashboardView.status(of: ["status": "met", "value": 100.0]) == ("ok", "达标"))
        #expect(DashboardView.status(of: ["status": "not_met", "value": 80.0]) == ("bad", "未达标"))
        #expect(DashboardView.status(of: ["status": "tracked", "value": 96.9]) == ("warn", "有离线"))
        #expect(DashboardView.status(of: ["status": "tracked", "value": 100]) == ("ok", "全部在线"))
        #expect(DashboardView.status(of: ["status": "no_data", "value": nil]) == ("none", "无数据"))
        #expect(DashboardView.beijingTime("2026-11-29T04:10:36.000Z") == "2026-11-29 12:10:36")
        #expect(DashboardView.beijingTime("garbage") == "-")
    }
}
