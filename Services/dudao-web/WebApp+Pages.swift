import DudaoCore
import DudaoReport
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// Why a page cannot be shown: the status and the sentence on the error page (or in the API's
/// `{"error": …}`).
struct PageError: Error {
    var status: HTTPResponse.Status
    var message: String

    static func notFound(_ message: String) -> PageError { PageError(status: .notFound, message: message) }
    static func forbidden(_ message: String) -> PageError { PageError(status: .forbidden, message: message) }
    static func badRequest(_ message: String) -> PageError { PageError(status: .badRequest, message: message) }
}

/// The drill-down, indicator and report pages. Each has an HTML page and, where a script or an
/// integrator would want it, the same model under `/api/…`.
extension WebApp {
    func addPages(to router: Router<BasicRequestContext>) {
        router.get("kindergartens/:id") { [self] request, context in
            await guarded(request) { session, account in
                var model = try await kindergarten(context.parameters.get("id") ?? "", account: account)
                page(&model, session: session, account: account, name: "kindergarten")
                return render("kindergarten", model)
            }
        }
        router.get("api/kindergartens/:id") { [self] request, context in
            await guarded(request) { _, account in json(.object(try await kindergarten(context.parameters.get("id") ?? "", account: account))) }
        }
        router.get("indicators") { [self] request, _ in
            await guarded(request) { session, account in
                var model = try await indicators(request, account: account)
                page(&model, session: session, account: account, name: "indicators")
                return render("indicators", model)
            }
        }
        router.get("api/indicators") { [self] request, _ in
            await guarded(request) { _, account in json(.object(try await indicators(request, account: account))) }
        }
        router.get("indicators/:id") { [self] request, context in
            await guarded(request) { session, account in
                var model = try await indicator(context.parameters.get("id") ?? "", request, account: account)
                page(&model, session: session, account: account, name: "indicator")
                return render("indicator", model)
            }
        }
        router.get("api/indicators/:id") { [self] request, context in
            await guarded(request) { _, account in
                var model = try await indicator(context.parameters.get("id") ?? "", request, account: account)
                model["chart"] = nil
                return json(.object(model))
            }
        }
        router.get("report") { [self] request, _ in
            await guarded(request) { session, account in
                let (year, month) = try reportMonth(request, account: account)
                var model = reportModel(try await report(year: year, month: month))
                page(&model, session: session, account: account, name: "report")
                return render("report", model)
            }
        }
        router.get("report/download") { [self] request, _ in
            await guarded(request) { _, account in
                let (year, month) = try reportMonth(request, account: account)
                let format = request.uri.queryParameters.get("format") ?? "html"
                guard format == "html" || format == "csv" else { throw PageError.badRequest("format 只能是 html 或 csv") }
                let report = try await report(year: year, month: month)
                let name = String(format: "dudao-report-%04d-%02d.%@", year, month, format)
                var headers: HTTPFields = [
                    .contentDisposition: "attachment; filename=\"\(name)\"",
                    .contentType: format == "csv" ? "text/csv; charset=utf-8" : "text/html; charset=utf-8",
                ]
                // The report's HTML styles itself inline and has no script: it may do that, nothing more.
                if format == "html" { headers[.contentSecurityPolicy] = "default-src 'none'; style-src 'unsafe-inline'" }
                let text = format == "csv" ? report.csvWithByteOrderMark() : report.html()
                return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
            }
        }
    }

    /// Runs `build` for the logged-in account; what it throws becomes the error page (or, under
    /// `/api/`, a JSON error): a nack `unknown_reference` is a 404, a service that cannot be asked a 502.
    func guarded(_ request: Request, _ build: (Session, Account) async throws -> Response) async -> Response {
        let api = request.uri.path.hasPrefix("/api/")
        guard let (session, account) = user(request) else {
            return api ? json(["error": .string("not logged in")], status: .unauthorized) : redirect("/login")
        }
        let failure: PageError
        do {
            return try await build(session, account)
        } catch let error as PageError {
            failure = error
        } catch let error as BackendError where error.code == .unknownReference {
            failure = .notFound("没有这个对象：\(error)")
        } catch {
            logger.error("page failed", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
            failure = PageError(status: .badGateway, message: "服务暂时无法回答：\(error)")
        }
        if api { return json(["error": .string(failure.message)], status: failure.status) }
        let titles: [Int: String] = [400: "请求有误（400）", 403: "禁止访问（403）", 404: "未找到（404）", 502: "服务不可用（502）"]
        return render("error", ["title": .string(titles[failure.status.code] ?? "出错了"), "message": .string(failure.message)], status: failure.status)
    }

    // MARK: drill-down

    /// The town page's lists: its kindergartens and its devices that are not online.
    func townLists(_ town: String) async throws -> JSONObject {
        try await backends.withConnection(config.safety) { client in
            let institutions = try await Backends.ask(client, "safety.institutions", ["scope": .string("town:\(town)")])
            var devices = try await Backends.ask(
                client, "safety.devices", ["scope": .string("town:\(town)"), "state": "problem", "limit": 200])
            let never = try await Backends.ask(client, "safety.devices", ["scope": .string("town:\(town)"), "state": "never_seen", "limit": 200])
            let rows = (devices["devices"]?.arrayValue ?? []) + (never["devices"]?.arrayValue ?? [])
            let count = (devices["count"]?.intValue ?? 0) + (never["count"]?.intValue ?? 0)
            devices = ["devices": .array(rows), "count": .int(count)]
            return DrillDownView.town(institutions: institutions, devices: devices)
        }
    }

    func kindergarten(_ id: String, account: Account) async throws -> JSONObject {
        let (answer, devices) = try await backends.withConnection(config.safety) { client in
            let answer = try await Backends.ask(client, "safety.institutions", ["scope": .string("institution:\(id)"), "level": "all"])
            guard let row = answer["institutions"]?.arrayValue?.first else { throw PageError.notFound("没有这所学校") }
            guard account.maySee(town: row["town_id"]?.stringValue) else { throw PageError.forbidden("此账号无权查看该镇街的学校") }
            let devices = try await Backends.ask(client, "safety.devices", ["scope": .string("institution:\(id)"), "state": "all", "limit": 500])
            return (row, devices)
        }
        var model = DrillDownView.institution(answer)
        model["devices"] = .array((devices["devices"]?.arrayValue ?? []).map(DrillDownView.device))
        model["has_devices"] = .bool(!(devices["devices"]?.arrayValue ?? []).isEmpty)
        return model
    }

    // MARK: indicators

    /// The plan year a page shows: `?year=`, else this year in Beijing, kept within the plan.
    func year(_ request: Request) throws -> Int {
        if let text = request.uri.queryParameters.get("year") {
            guard let year = Int(text), IndicatorView.planYears.contains(year) else {
                throw PageError.badRequest("year 须为行动方案的年份：\(IndicatorView.planYears.map(String.init).joined(separator: "、"))")
            }
            return year
        }
        let now = DashboardView.today.year
        return min(max(now, IndicatorView.planYears.first!), IndicatorView.planYears.last!)
    }

    /// The scope a page shows: `?scope=city|town:<id>`; an account that sees only some towns
    /// gets its first town and nothing else.
    func scope(_ request: Request, account: Account) throws -> (scope: String, options: [JSONValue]) {
        let towns = (poller.snapshot.overview?["towns"]?.arrayValue ?? [])
            .compactMap { town -> (String, String)? in
                guard let id = town["town_id"]?.stringValue, account.maySee(town: id) else { return nil }
                return (id, town["name"]?.stringValue ?? id)
            }
            .sorted { $0.0 < $1.0 }
        let fallback = account.seesCity ? "city" : (account.towns?.sorted().first.map { "town:\($0)" } ?? "city")
        let scope = request.uri.queryParameters.get("scope").map { String($0) } ?? fallback
        if scope == "city" {
            guard account.seesCity else { throw PageError.forbidden("此账号只能查看所辖镇街") }
        } else if scope.hasPrefix("town:") {
            guard account.maySee(town: String(scope.dropFirst(5))) else { throw PageError.forbidden("此账号无权查看该镇街") }
        } else {
            throw PageError.badRequest("scope 须为 city 或 town:<镇街编号>")
        }
        var options: [JSONValue] = []
        if account.seesCity { options.append(["value": "city", "name": "全市", "selected": .bool(scope == "city")]) }
        for (id, name) in towns {
            options.append(["value": .string("town:\(id)"), "name": .string(name), "selected": .bool(scope == "town:\(id)")])
        }
        return (scope, options)
    }

    func yearOptions(_ year: Int) -> JSONValue {
        .array(IndicatorView.planYears.map { ["value": .int(Int64($0)), "selected": .bool($0 == year)] })
    }

    /// The year and scope pickers' model, shared by the indicator pages.
    func pickers(year: Int, scope: String, options: [JSONValue]) -> JSONObject {
        [
            "year": .int(Int64(year)), "scope": .string(scope), "years": yearOptions(year), "scopes": .array(options),
            "scope_name": .string(options.first { $0["selected"]?.boolValue == true }?["name"]?.stringValue ?? scope),
        ]
    }

    func indicators(_ request: Request, account: Account) async throws -> JSONObject {
        let year = try year(request)
        let (scope, options) = try scope(request, account: account)
        let answer = try await backends.askOnce(config.indicators, "indicators.evaluate", ["year": .int(Int64(year)), "scope": .string(scope)])
        let rows = (answer["indicators"]?.arrayValue ?? []).map { JSONValue.object(IndicatorView.row($0)) }
        var model = pickers(year: year, scope: scope, options: options)
        model["indicators"] = .array(rows)
        model["query"] = .string("year=\(year)&scope=\(scope)")
        return model
    }

    func indicator(_ id: String, _ request: Request, account: Account) async throws -> JSONObject {
        let year = try year(request)
        let (scope, options) = try scope(request, account: account)
        let (evaluated, history, contributors) = try await backends.withConnection(config.indicators) { client in
            let evaluated = try await Backends.ask(client, "indicators.evaluate", ["year": .int(Int64(year)), "scope": .string(scope)])
            guard let row = evaluated["indicators"]?.arrayValue?.first(where: { $0["id"]?.stringValue == id }) else {
                throw PageError.notFound("行动方案中没有指标 \(id)")
            }
            let history = try await Backends.ask(client, "indicators.history", ["indicator": .string(id), "scope": .string(scope)])
            // Some indicators have no per-institution breakdown: the page says so instead of failing.
            let contributors: Result<JSONValue, BackendError>
            do {
                contributors = .success(
                    try await Backends.ask(
                        client, "indicators.contributors", ["indicator": .string(id), "year": .int(Int64(year)), "scope": .string(scope), "limit": 50]))
            } catch let error as BackendError where error.code != nil {
                contributors = .failure(error)
            }
            return (row, history, contributors)
        }
        var model = pickers(year: year, scope: scope, options: options)
        model["indicator"] = .object(IndicatorView.row(evaluated))
        let points = history["history"]?.arrayValue ?? []
        model["history"] = .array(
            points.map { point in
                let (css, label) = IndicatorView.status(point["status"]?.stringValue)
                return [
                    "year": .int(point["year"]?.intValue ?? 0), "value": .string(ProgressReport.number(point["value"], unit: evaluated["unit"]?.stringValue ?? "")),
                    "target": .string(ProgressReport.target(point.merging(evaluated))), "css": .string(css), "label": .string(label),
                ]
            })
        model["chart"] = .object(
            IndicatorView.chart(history: points, title: evaluated["name_zh"]?.stringValue ?? id, unit: evaluated["unit"]?.stringValue ?? ""))
        switch contributors {
        case .success(let answer):
            let rows = (answer["rows"]?.arrayValue ?? []).map(IndicatorView.contributor)
            model["contributors"] = .array(rows)
            model["has_contributors"] = .bool(!rows.isEmpty)
        case .failure(let error):
            model["contributors_note"] = .string("该指标没有按学校的分解：\(error)")
        }
        return model
    }

    // MARK: report

    /// `?year=&month=` of the report (default: this month in Beijing); only city accounts read it.
    func reportMonth(_ request: Request, account: Account) throws -> (Int, Int) {
        guard account.seesCity else { throw PageError.forbidden("月报为全市报告，镇街账号不能查看") }
        let year = try self.year(request)
        var month = DashboardView.today.month
        if let text = request.uri.queryParameters.get("month") {
            guard let value = Int(text), (1...12).contains(value) else { throw PageError.badRequest("month 须为 1 到 12 的整数") }
            month = value
        }
        return (year, month)
    }

    /// The report as `dudao report` builds it, read only (browsing never takes a snapshot).
    func report(year: Int, month: Int) async throws -> ProgressReport {
        try await backends.withConnection(config.indicators) { client in
            try await ProgressReport.fetch(year: year, month: month, take: false) { type, body in
                try await Backends.ask(client, type, body.objectValue ?? [:])
            }
        }
    }

    func reportModel(_ report: ProgressReport) -> JSONObject {
        let names = report.townIndicators
        let towns: [JSONValue] = report.towns.map { town in
            var byID: [String: JSONValue] = [:]
            for row in town["indicators"]?.arrayValue ?? [] { if let id = row["id"]?.stringValue { byID[id] = row } }
            let cells: [JSONValue] = names.map { indicator in
                guard let row = byID[indicator.id] else { return ["value": "—", "css": "none", "label": "无数据"] }
                let model = IndicatorView.row(row)
                return ["value": model["value"] ?? "", "css": model["css"] ?? "", "label": model["label"] ?? ""]
            }
            return ["name": .string(town["name"]?.stringValue ?? town["town_id"]?.stringValue ?? ""), "cells": .array(cells)]
        }
        var model: JSONObject = [
            "title": .string(report.title), "year": .int(Int64(report.year)), "month": .int(Int64(report.month)),
            "years": yearOptions(report.year),
            "months": .array((1...12).map { ["value": .int(Int64($0)), "selected": .bool($0 == report.month)] }),
            "counts": .array(report.counts.map { ["name": .string($0.0), "count": .int(Int64($0.1))] }),
            "indicators": .array(report.city.map { .object(IndicatorView.row($0)) }),
            "town_columns": .array(names.map { .string($0.name) }), "towns": .array(towns),
            "generated_at": .string(LocalTime.beijing.format(report.generatedAt)),
        ]
        if let changes = report.changes {
            model["changes"] = .array(changes.map { ["name": .string($0.name), "before": .string($0.before), "after": .string($0.after)] })
            model["has_changes"] = .bool(!changes.isEmpty)
        } else {
            model["no_previous"] = true
        }
        return model
    }
}

extension JSONValue {
    /// This object with `other`'s keys added where it has none.
    fileprivate func merging(_ other: JSONValue) -> JSONValue {
        var result = objectValue ?? [:]
        for (key, value) in other.objectValue ?? [:] where result[key] == nil { result[key] = value }
        return .object(result)
    }
}
