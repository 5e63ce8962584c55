import ArgumentParser

/// `dudao`: the operator's command line.
@main
struct DudaoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dudao",
        abstract: "Dudao (督导) operator CLI: certificates, feeds, queries, benchmarks.",
        subcommands: [CertsCommand.self, SendCommand.self, TemplateCommand.self, SchemaCommand.self, StatusCommand.self, BackupCommand.self, TailCommand.self, QueryCommand.self, ReportCommand.self, SafetyCommand.self, AlertsCommand.self, BenchCommand.self])
}
