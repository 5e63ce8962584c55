import DudaoWire
import Logging

extension ReloadStep {
    /// Re-reads the TLS files and the revocation list (new connections use them) and closes the
    /// open connections whose certificate is now revoked: a leaked key is cut off at once.
    public static func tls(_ material: TLSMaterial, servers: [FrameServer], logger: Logger) -> ReloadStep {
        ReloadStep("TLS files and revocation list (\(material.files.certificatePath))") {
            try material.reload()
            for server in servers {
                for peer in server.connections.closeRevoked(material.revocation) {
                    logger.warning(
                        "closed the connection of a revoked certificate", metadata: ["identity": "\(peer.name)", "serial": "\(peer.serial)"])
                }
            }
        }
    }

    /// Re-reads the access file: connections made from now on get the new grants.
    public static func accessFile(_ policy: Reloadable<AccessPolicy>, path: String) -> ReloadStep {
        ReloadStep("access file \(path)") {
            policy.replace(try AccessPolicy(path: path))
        }
    }
}
