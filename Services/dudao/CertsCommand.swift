import ArgumentParser
import DudaoCerts
import Foundation

/// `dudao certs init DIR`: a private CA and a certificate per service and integrator.
struct CertsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "certs", abstract: "Issue, request, sign and revoke certificates.",
        subcommands: [Init.self, Issue.self, Request.self, Sign.self, Revoke.self])

    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a CA in DIR (or reuse the one there) and certificates for the services, the operator and integrators.")

        @Argument(help: "Folder for ca.pem/ca.key and NAME.pem/NAME.key.")
        var directory: String

        @Option(name: .customLong("integrator"), help: "An integrator identity to issue (repeatable), e.g. town-dongcheng.")
        var integrators: [String] = []

        @Option(name: .customLong("operator"), help: "Operator identities to issue (repeatable).")
        var operators: [String] = ["operator"]

        @Flag(help: "Only the CA (for a multi-host deployment, where each host makes its own key with `certs request`).")
        var caOnly = false

        func run() throws {
            let issuer = try CertificateIssuer(directory: directory)
            for name in caOnly ? [] : CertificateNames.services + operators + integrators {
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

        @OptionGroup var names: SubjectNames

        @Option(help: "service (serverAuth + clientAuth) or client (clientAuth only). Default: service for the four services, client otherwise.")
        var role: CertificateProfile.Role?

        @Flag(help: "Replace an existing certificate.")
        var force = false

        func run() throws {
            guard CertificateNames.isValid(name) else {
                throw ValidationError("\"\(name)\" is not a valid identity: 1-64 characters of [A-Za-z0-9._-]")
            }
            let issuer = try CertificateIssuer(directory: directory)
            let profile = CertificateProfile(
                role: role ?? CertificateProfile.defaultRole(for: name), dnsNames: names.dns, ipAddresses: names.ip)
            let wrote = try issuer.issue(name: name, profile: profile, overwrite: force)
            print("\(wrote ? "issued" : "kept (use --force to replace)") \(directory)/\(name).pem (\(profile.role.rawValue))")
        }
    }

    /// On the department's host: a key that never leaves it, and a request for the CA host.
    struct Request: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make NAME.key (0600) and NAME.csr in --out; send the .csr to the CA host for `dudao certs sign`.")

        @Argument(help: "The identity (certificate common name), e.g. dudao-safety.")
        var name: String

        @Option(help: "Folder for NAME.key and NAME.csr.")
        var out: String

        @OptionGroup var names: SubjectNames

        @Flag(help: "Replace an existing key.")
        var force = false

        func run() throws {
            let csr = try CertificateRequest.make(name: name, directory: out, dnsNames: names.dns, ipAddresses: names.ip, overwrite: force)
            print("request \(csr) (key \(out)/\(name).key stays on this host)")
        }
    }

    /// On the CA host: sign a request.
    struct Sign: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Sign a request made by `dudao certs request`; writes NAME.pem beside it (or --out).")

        @Argument(help: "Folder holding the CA (ca.pem, ca.key).")
        var directory: String

        @Argument(help: "The request, NAME.csr.")
        var csr: String

        @Option(help: "Where to write the certificate (default: NAME.pem beside the request).")
        var out: String?

        @Option(help: "service or client. Default: service for the four services, client otherwise.")
        var role: CertificateProfile.Role?

        func run() throws {
            let issuer = try CertificateIssuer(directory: directory)
            let path = try issuer.sign(requestAt: csr, output: out, role: role)
            print("signed \(path); send it and \(issuer.caPath) back to the host")
        }
    }

    /// On the CA host: revoke a certificate (its serial) or a whole identity.
    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a certificate to DIR/revoked.json; copy that file to every host (tls.revoked) and reload the services (SIGHUP).")

        @Argument(help: "Folder holding the CA.")
        var directory: String

        @Argument(help: "The identity whose certificate DIR/NAME.pem (or --certificate) is revoked.")
        var name: String?

        @Option(help: "The certificate to revoke, if not DIR/NAME.pem.")
        var certificate: String?

        @Option(help: "Revoke a serial number (hex) instead of a file.")
        var serial: String?

        @Flag(help: "Revoke every certificate of this identity, not only this one's serial.")
        var identity = false

        func run() throws {
            if let serial {
                try RevocationFile.add(serials: [serial], identities: identity && name != nil ? [name!] : [], in: directory)
                print("revoked serial \(serial.uppercased()) in \(RevocationFile.path(in: directory))")
                return
            }
            // DIR/NAME.pem (issued here), else DIR/issued/NAME.pem (signed from a request).
            let byName = name.map { name in
                ["\(directory)/\(name).pem", "\(directory)/issued/\(name).pem"].first { FileManager.default.fileExists(atPath: $0) }
                    ?? "\(directory)/\(name).pem"
            }
            guard let path = certificate ?? byName else {
                throw ValidationError("name an identity, --certificate FILE or --serial HEX")
            }
            let (serial, identity) = try RevocationFile.revoke(certificateAt: path, in: directory, wholeIdentity: self.identity)
            print("revoked \(identity) serial \(serial)\(self.identity ? " and the whole identity" : "") in \(RevocationFile.path(in: directory))")
            print("copy it to every host (config tls.revoked) and reload: systemctl reload 'dudao-*' (or kill -HUP)")
        }
    }
}

/// `--dns` / `--ip`: the names a service's certificate is valid for (what clients dial).
struct SubjectNames: ParsableArguments {
    @Option(help: "A DNS name for the certificate's SAN (repeatable). With no --dns/--ip: NAME, localhost, 127.0.0.1, ::1.")
    var dns: [String] = []

    @Option(help: "An IP address for the certificate's SAN (repeatable).")
    var ip: [String] = []
}

extension CertificateProfile.Role: ExpressibleByArgument {}
