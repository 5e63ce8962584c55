import ArgumentParser

/// The `serve` subcommand of a service: `serve()` runs it, and a ``ConfigurationFailure``
/// (already logged) becomes exit status 78 (EX_CONFIG), which systemd and the install check
/// read as "fix the configuration, do not restart".
public protocol ServiceCommand: AsyncParsableCommand {
    func serve() async throws
}

extension ServiceCommand {
    public func run() async throws {
        do {
            try await serve()
        } catch is ConfigurationFailure {
            throw ExitCode(78)
        }
    }
}
