import DudaoCore
import DudaoWire
import Logging

/// Where a link goes and how it logs: the loop both links (the log consumer, the outbox sender)
/// share. It connects, runs a session on the connection, and when the session fails closes the
/// connection, logs why and when it retries, waits with ``ReconnectBackoff`` and starts over,
/// until the task is cancelled (graceful shutdown).
struct ReconnectingLink {
    var host: String
    var port: Int
    var tls: any ClientTLSSource
    var serverIdentity: String?
    var logger: Logger
    /// The warning logged on a failure ("log subscription lost; retrying").
    var failure: Logger.Message
    /// The metadata key naming the peer (`ingest`, `to`).
    var peerKey: String

    /// `session` gets the connection and `working`, to call once the link is known good (the
    /// next failure then waits the shortest time again); `lost` runs after each failure.
    func run(lost: () -> Void = {}, _ session: (WireClient, _ working: () -> Void) async throws -> Void) async {
        var backoff = ReconnectBackoff()
        while !Task.isCancelled {
            var client: WireClient?
            do {
                let connected = try await WireClient.connect(host: host, port: port, tls: tls.client, serverIdentity: serverIdentity)
                client = connected
                try await session(connected) { backoff.reset() }
            } catch {
                lost()
                if let client { await client.close() }
                if Task.isCancelled { return }
                logger.warning(failure, metadata: [peerKey: "\(host):\(port)", "error": "\(error)", "in": "\(backoff.seconds)s"])
                await backoff.wait()
            }
        }
    }
}
