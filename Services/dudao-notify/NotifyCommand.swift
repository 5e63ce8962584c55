import ArgumentParser

/// `dudao-notify`: routes alerts to the responsible departments and delivers them.
@main
struct NotifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dudao-notify",
        abstract: "Route Dudao alerts to the responsible departments and deliver them (webhook, WeCom, e-mail, file).",
        subcommands: [ServeCommand.self, CheckConfigCommand.self],
        defaultSubcommand: ServeCommand.self)
}
