import ArgumentParser

/// `dudao-safety`: safety-system compliance, device liveness and one-key alarms.
@main
struct SafetyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dudao-safety",
        abstract: "Safety-system compliance rates, device liveness and one-key alarms (clause 四(九)).",
        subcommands: [ServeCommand.self, CheckConfigCommand.self],
        defaultSubcommand: ServeCommand.self)
}
