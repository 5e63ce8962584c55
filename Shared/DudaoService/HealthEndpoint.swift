import Hummingbird
import Logging
import NIOCore
import Prometheus
import ServiceLifecycle

/// The one HTTP surface of a service, on its own address (`metrics.host`/`metrics.port`):
/// `GET /metrics` (Prometheus text), `GET /health` (200 while the process serves requests) and
/// `GET /ready` (200 once the service can do its job, 503 before). It is a `Service` (Hummingbird's
/// `Application`), shut down with the others.
public struct HealthEndpoint: Service {
    let application: Application<RouterResponder<BasicRequestContext>>

    /// - Parameters:
    ///   - service: the executable's name, for the announce line (`NAME metrics on HOST:PORT`).
    ///   - ready: whether `/ready` answers 200.
    ///   - collect: updates the figures read at scrape time (log lag, outbox depth, devices) before `/metrics` renders.
    public init(
        service: String, settings: HTTPAddress, registry: PrometheusCollectorRegistry, logger: Logger,
        ready: @escaping @Sendable () -> Bool = { true }, collect: @escaping @Sendable () async -> Void = {}
    ) {
        let router = Router()
        router.get("metrics") { _, _ -> Response in
            await collect()
            var buffer = ByteBuffer()
            buffer.writeBytes(registry.emitToBuffer())
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"], body: .init(byteBuffer: buffer))
        }
        router.get("health") { _, _ -> String in "ok\n" }
        router.get("ready") { _, _ -> Response in
            ready()
                ? Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "ready\n")))
                : Response(status: .serviceUnavailable, body: .init(byteBuffer: ByteBuffer(string: "not ready\n")))
        }
        var quiet = logger
        quiet.logLevel = max(logger.logLevel, .notice)  // no line per scrape
        application = Application(
            router: router, configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: nil),
            onServerRunning: { channel in
                ServiceRuntime.announceLine("\(service) metrics on \(settings.host):\(channel.localAddress?.port ?? settings.port)")
            }, logger: quiet)
    }

    public func run() async throws {
        try await application.run()
    }
}
