import DudaoCore
import DudaoWire
import Logging

/// Where a link goes and how it logs: the loop both links (the log consumer, the outbox sender)
/// share. It connects, runs a session on the connection, and when the session fails closes the
/// connection, logs why and when it retries, waits with ``ReconnectBackoff`` and starts over,
/// until the task is cancelled (graceful shutdown).
///
/// With failover places (several ingest instances sharing one PostgreSQL database), a failure
/// moves the link to the next place at once; it waits only after every place has failed in a row.
struct ReconnectingLink {
    /// A host and port to connect to.
    struct Place: Sendable {
        var host: String
        var port: Int
    }

    /// The first place, then the failover places, tried in turn.
    var places: [Place]
    var tls: any ClientTLSSource
    var serverIdentity: String?
    var logger: Logger
    /// The warning logged on a failure ("log subscription lost; retrying").
    var failure: Logger.Message
    /// The metadata key naming the peer (`ingest`, `to`).
    var peerKey: String
    /// Whether record frames are read straight from their bytes (``WireClient/Inbound``).
    var readsRecords = false

    /// `session` gets the connection and `working`, to call once the link is known good (the
    /// next failure then waits the shortest time again); `lost` runs after each failure.
    func run(lost: () -> Void = {}, _ session: (WireClient, _ working: () -> Void) async throws -> Void) async {
        var backoff = ReconnectBackoff()
        var index = 0
        var failedInARow = 0
        while !Task.isCancelled {
            let place = places[index % places.count]
            var client: WireClient?
            do {
                let connected = try await WireClient.connect(
                    host: place.host, port: place.port, tls: tls.client, serverIdentity: serverIdentity, readsRecords: readsRecords)
                client = connected
                try await session(connected) {
                    backoff.reset()
                    failedInARow = 0
                }
            } catch {
                lost()
                if let client { await client.close() }
                if Task.isCancelled { return }
                failedInARow += 1
                index += 1
                if failedInARow < places.count {
                    let next = places[index % places.count]
                    logger.warning(
                        failure, metadata: [peerKey: "\(place.host):\(place.port)", "error": "\(error)", "next": "\(next.host):\(next.port)"])
                    continue
                }
                failedInARow = 0
                logger.warning(failure, metadata: [peerKey: "\(place.host):\(place.port)", "error": "\(error)", "in": "\(backoff.seconds)s"])
                await backoff.wait()
            }
        }
    }
}
