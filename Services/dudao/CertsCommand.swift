import ArgumentParser
import DudaoCerts

/// `dudao certs init DIR`: a private CA and a certificate per service and integrator.
struct CertsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "certs", abstract: "Issue certificates.", subcommands: [Init.self, Issue.self])

    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a CA in DIR (or reuse the one there) and certificates for the services, the operator and integrators.")

        @Argument(help: "Folder for ca.pem/ca.key and NAME.pem/NAME.key.")
        var directory: String

        @Option(name: .customLong("integrator"), help: "An integrator identity to issue (repeatable), e.g. town-dongcheng.")
        var integrators: [String] = []

        @Option(name: .customLong("operator"), help: "Operator identities to issue (repeatable).")
        var operators: [String] = ["operator"]

        func run() throws {
            let issuer = try CertificateIssuer(directory: directory)
            for name in CertificateNames.services + operators + integrators {
                guard CertificateNames.isValid(name) else {
                    throw ValidationError("\"\(name)\" is not a valid identity: 1-64 characters of [A-Za-z0-9._-]")
                }
                let wrote = try issuer.issue(name: name)
                print("\(wrote ? "issued" : "kept  ") \(directory)/\(name).pem")
            }
            print("CA: \(issuer.caPath)")
        }
    }

    struct Issue: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Issue (or re-issue with --force) one identity's certificate.")

        @Argument(help: "Folder holding the CA.")
        var directory: String

        @Argument(help: "The identity (certificate common name).")
        var name: String

        @Flag(help: "Replace an existing certificate.")
        var force = false

        func run() throws {
            guard CertificateNames.isValid(name) else {
                throw ValidationError("\"\(name)\" is not a valid identity: 1-64 characters of [A-Za-z0-9._-]")
            }
            let issuer = try CertificateIssuer(directory: directory)
            let wrote = try issuer.issue(name: name, overwrite: force)
            print("\(wrote ? "issued" : "kept (use --force to replace)") \(directory)/\(name).pem")
        }
    }
}
