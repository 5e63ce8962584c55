import DudaoCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdBcrypt
import Logging
import Mustache
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// The dashboard's HTTP side: log-in, the pages, the JSON API and the live `/events` stream.
final class WebApp: Sendable {
    static let cookieName = "dudao_session"

    let config: WebConfig
    let accounts: [String: Account]
    let sessions: SessionStore
    let throttle = NIOLockedValueBox(LoginThrottle())
    let poller: Poller
    let backends: Backends
    let templates: MustacheLibrary
    let staticFiles: [String: (type: String, body: ByteBuffer)]
    let logger: Logger
    /// Set when the process stops: open `/events` streams end.
    let stopping = NIOLockedValueBox(false)
    /// Verified against when the account does not exist, so both cases take as long.
    let dummyHash: String

    init(config: WebConfig, accounts: [String: Account], poller: Poller, backends: Backends, logger: Logger) async throws {
        self.config = config
        self.accounts = accounts
        self.sessions = SessionStore(idleSeconds: TimeInterval(config.sessionIdleSeconds))
        self.poller = poller
        self.backends = backends
        self.logger = logger
        self.templates = try await MustacheLibrary(directory: config.templatesDirectory)
        var files: [String: (type: String, body: ByteBuffer)] = [:]
        for (name, type) in [("app.js", "text/javascript; charset=utf-8"), ("app.css", "text/css; charset=utf-8")] {
            let path = "\(config.staticDirectory)/\(name)"
            guard let data = FileManager.default.contents(atPath: path) else { throw BackendError(description: "\(path): cannot read") }
            files[name] = (type, ByteBuffer(bytes: data))
        }
        self.staticFiles = files
        self.dummyHash = Bcrypt.hash(Tokens.random(), cost: 10)
    }

    // MARK: helpers

    func render(_ template: String, _ model: JSONObject, status: HTTPResponse.Status = .ok) -> Response {
        let text = templates.render(DashboardView.mustache(model), withTemplate: template) ?? "template \(template) missing"
        return Response(
            status: status, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: JSONWriter.bytes(value))))
    }

    func redirect(_ location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location])
    }

    func forbidden(_ request: Request, _ message: String) -> Response {
        if request.uri.path.hasPrefix("/api/") || request.uri.path == "/events" {
            return json(["error": .string(message)], status: .forbidden)
        }
        return render("error", ["title": "禁止访问（403）", "message": .string(message)], status: .forbidden)
    }

    func sessionCookie(_ id: String, maxAge: Int? = nil) -> Cookie {
        Cookie(
            name: Self.cookieName, value: id, maxAge: maxAge, path: "/", secure: config.secureCookies, httpOnly: true, sameSite: .strict)
    }

    func session(of request: Request) -> Session? {
        sessions.session(request.cookies[Self.cookieName]?.value)
    }

    /// The logged-in account, or nil.
    func user(_ request: Request) -> (Session, Account)? {
        guard let session = session(of: request), let name = session.username, let account = accounts[name] else { return nil }
        return (session, account)
    }

    /// An `application/x-www-form-urlencoded` body.
    static func form(_ request: Request) async throws -> [String: String] {
        let buffer = try await request.body.collect(upTo: 64 * 1024)
        return parseForm(String(buffer: buffer))
    }

    static func parseForm(_ text: String) -> [String: String] {
        var result: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String { s.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "" }
            let key = decode(parts[0])
            if result[key] == nil { result[key] = parts.count > 1 ? decode(parts[1]) : "" }
        }
        return result
    }

    /// The form of a state-changing request, when it carries the session's CSRF token; nil: refuse with 403.
    func checkedForm(_ request: Request, session: Session?) async throws -> [String: String]? {
        let form = try await Self.form(request)
        guard let session, session.acceptsCSRF(form["csrf"]) else { return nil }
        return form
    }

    // MARK: routes

    func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: SecurityHeaders())
        router.get("health") { _, _ in "ok\n" }
        router.get("static/:file") { [self] request, context -> Response in
            guard let name = context.parameters.get("file"), let file = staticFiles[name] else { return Response(status: .notFound) }
            return Response(status: .ok, headers: [.contentType: file.type, .cacheControl: "no-cache"], body: .init(byteBuffer: file.body))
        }
        router.get("login") { [self] request, _ in loginPage(request) }
        router.post("login") { [self] request, _ in try await login(request) }
        router.post("logout") { [self] request, _ -> Response in
            let session = session(of: request)
            guard try await checkedForm(request, session: session) != nil, let session else {
                return forbidden(request, "缺少或无效的 CSRF 令牌")
            }
            sessions.remove(session.id)
            var response = redirect("/login")
            response.setCookie(sessionCookie("", maxAge: 0))
            return response
        }
        router.get("/") { [self] request, _ -> Response in
            guard let (session, account) = user(request) else { return redirect("/login") }
            var model = DashboardView.model(poller.snapshot, for: account)
            page(&model, session: session, account: account, name: "overview")
            return render("overview", model)
        }
        router.get("town/:id") { [self] request, context -> Response in
            guard let (session, account) = user(request) else { return redirect("/login") }
            let id = context.parameters.get("id") ?? ""
            guard account.maySee(town: id) else { return forbidden(request, "此账号无权查看该镇街") }
            var model = DashboardView.model(poller.snapshot, for: account, town: id)
            guard let row = model["towns"]?.arrayValue?.first else {
                return render("error", ["title": "未找到（404）", "message": "没有这个镇街"], status: .notFound)
            }
            model["town"] = row
            do {
                for (key, value) in try await townLists(id) { model[key] = value }
            } catch {
                model["lists_problem"] = .string("dudao-safety：\(error)")
            }
            page(&model, session: session, account: account, name: "town", town: id)
            return render("town", model)
        }
        router.get("api/overview") { [self] request, _ -> Response in
            guard let (_, account) = user(request) else { return json(["error": .string("not logged in")], status: .unauthorized) }
            return json(.object(DashboardView.model(poller.snapshot, for: account)))
        }
        router.get("api/town/:id") { [self] request, context -> Response in
            guard let (_, account) = user(request) else { return json(["error": .string("not logged in")], status: .unauthorized) }
            let id = context.parameters.get("id") ?? ""
            guard account.maySee(town: id) else { return forbidden(request, "this account may not see town \(id)") }
            let model = DashboardView.model(poller.snapshot, for: account, town: id)
            guard let row = model["towns"]?.arrayValue?.first else { return json(["error": .string("no such town")], status: .notFound) }
            return json(["town": row, "alarms": model["alarms"] ?? []])
        }
        router.post("alarms/ack") { [self] request, _ in try await acknowledge(request) }
        router.get("events") { [self] request, _ in events(request) }
        addPages(to: router)
        return router
    }

    func page(_ model: inout JSONObject, session: Session, account: Account, name: String, town: String? = nil) {
        model["csrf"] = .string(session.csrf)
        model["user_name"] = .string(account.name)
        model["role"] = .string(["bureau": "教育局", "safety": "安全", "town": "镇街"][account.role.rawValue] ?? "")
        model["page"] = .string(name)
        model["page_town"] = .string(town ?? "")
        // Only the overview and the town page update themselves (app.js); the others show the last poll's alarms.
        model["live_page"] = .bool(name == "overview" || name == "town")
        model["sees_city"] = .bool(account.seesCity)
        if model["alarms"] == nil {
            for (key, value) in DashboardView.model(poller.snapshot, for: account) where model[key] == nil { model[key] = value }
        }
    }

    func loginPage(_ request: Request, error: String? = nil, status: HTTPResponse.Status = .ok) -> Response {
        if user(request) != nil { return redirect("/") }
        var created = false
        let session = session(of: request) ?? { created = true; return sessions.create(username: nil) }()
        var model: JSONObject = ["csrf": .string(session.csrf)]
        if let error { model["error"] = .string(error) }
        var response = render("login", model, status: status)
        if created { response.setCookie(sessionCookie(session.id)) }
        return response
    }

    func login(_ request: Request) async throws -> Response {
        let session = session(of: request)
        guard let form = try await checkedForm(request, session: session), let session else {
            return forbidden(request, "缺少或无效的 CSRF 令牌，请刷新登录页后重试")
        }
        let username = (form["username"] ?? "").trimmingCharacters(in: .whitespaces)
        let password = form["password"] ?? ""
        let now = Date()
        if throttle.withLockedValue({ $0.lockedUntil(username, now: now) }) != nil {
            logger.warning("log-in refused: account locked", metadata: ["account": "\(username)"])
            return loginPage(request, error: "登录失败次数过多，账号已锁定 5 分钟", status: .tooManyRequests)
        }
        let account = accounts[username]
        let hash = account?.passwordHash ?? dummyHash
        let matches = try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(password, hash: hash) }
        guard matches, let account else {
            throttle.withLockedValue { $0.recordFailure(username, now: now) }
            logger.notice("log-in failed", metadata: ["account": "\(username)"])
            return loginPage(request, error: "用户名或密码错误", status: .unauthorized)
        }
        throttle.withLockedValue { $0.recordSuccess(username) }
        // A new session id at log-in (no fixation); the anonymous one is gone.
        sessions.remove(session.id)
        let fresh = sessions.create(username: account.username)
        logger.info("logged in", metadata: ["account": "\(username)"])
        var response = redirect("/")
        response.setCookie(sessionCookie(fresh.id))
        return response
    }

    func acknowledge(_ request: Request) async throws -> Response {
        let session = session(of: request)
        guard let form = try await checkedForm(request, session: session) else { return forbidden(request, "缺少或无效的 CSRF 令牌") }
        guard let (_, account) = user(request) else { return redirect("/login") }
        let id = form["alert_id"] ?? ""
        guard let alert = poller.snapshot.alarms.first(where: { $0["alert_id"]?.stringValue == id }) else {
            return render("error", ["title": "未找到（404）", "message": "没有这条未关闭的报警"], status: .notFound)
        }
        guard account.maySee(town: alert["town_id"]?.stringValue) else { return forbidden(request, "此账号无权确认该镇街的报警") }
        do {
            _ = try await backends.askOnce(backends.config.notify, "alerts.ack", ["alert_id": .string(id), "by": .string(account.name)])
        } catch {
            logger.error("alerts.ack failed", metadata: ["alert_id": "\(id)", "error": "\(error)"])
            return render("error", ["title": "确认失败", "message": .string("dudao-notify：\(error)")], status: .badGateway)
        }
        logger.info("alarm acknowledged", metadata: ["alert_id": "\(id)", "by": "\(account.name)"])
        await poller.pollNow()
        let back = form["back"].flatMap { $0.hasPrefix("/town/") || $0 == "/" ? $0 : nil } ?? "/"
        return redirect(back)
    }

    /// `text/event-stream`: an `update` event with the page's model whenever the services' answers
    /// change (checked every poll), a `tick` with the time of the last answer every 5 s otherwise; it ends after 10 minutes
    /// (the browser reconnects) or when the session does.
    func events(_ request: Request) -> Response {
        guard let (session, account) = user(request) else { return json(["error": .string("not logged in")], status: .unauthorized) }
        let town: String? = request.uri.queryParameters.get("town").map { String($0) }
        if let town, !town.isEmpty, !account.maySee(town: town) { return forbidden(request, "this account may not see town \(town)") }
        let headers: HTTPFields = [.contentType: "text/event-stream; charset=utf-8", .cacheControl: "no-store"]
        return Response(
            status: .ok, headers: headers,
            body: ResponseBody { [self] writer in
                var sent = -1
                var quiet = 0
                let started = Date()
                let tick = max(200, Int(config.pollSeconds * 500))
                while !stopping.withLockedValue({ $0 }), Date().timeIntervalSince(started) < 600 {
                    guard let current = sessions.session(session.id), let name = current.username, let account = accounts[name] else { break }
                    let snapshot = poller.snapshot
                    if snapshot.version != sent {
                        if let town, !account.maySee(town: town) { break }
                        let model = DashboardView.model(snapshot, for: account, town: town?.isEmpty == false ? town : nil)
                        let payload = "event: update\ndata: " + JSONWriter.string(.object(model)) + "\n\n"
                        try await writer.write(ByteBuffer(string: payload))
                        sent = snapshot.version
                        quiet = 0
                    } else {
                        // Nothing new: the time of the last answer, every 5 s (keeps proxies from closing the stream).
                        quiet += tick
                        if quiet >= 5_000 {
                            let time = snapshot.fetchedAt.map { LocalTime.beijing.format($0) } ?? "-"
                            try await writer.write(ByteBuffer(string: "event: tick\ndata: " + JSONWriter.string(["as_of": .string(time)]) + "\n\n"))
                            quiet = 0
                        }
                    }
                    try await Task.sleep(for: .milliseconds(tick))
                }
                try await writer.finish(nil)
            })
    }
}

/// Headers on every answer: a strict content security policy (scripts and styles from this
/// origin only, no inline script), no framing, no sniffing, no caching of pages.
struct SecurityHeaders: RouterMiddleware {
    typealias Context = BasicRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        // A route that sets its own policy (the downloadable report) keeps it.
        if response.headers[.contentSecurityPolicy] == nil {
            response.headers[.contentSecurityPolicy] =
                "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        }
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
        response.headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        if response.headers[.cacheControl] == nil { response.headers[.cacheControl] = "no-store" }
        return response
    }
}
