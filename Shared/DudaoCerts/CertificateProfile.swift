import Foundation
import SwiftASN1
import X509

/// What a leaf certificate may be used for, and which names it carries.
public struct CertificateProfile: Sendable, Equatable {
    /// `service`: serverAuth + clientAuth (a service listens and also dials other services);
    /// `client`: clientAuth only (integrators, operators, the dashboard): such a certificate
    /// cannot pose as a server, whatever its CN.
    public enum Role: String, Sendable, CaseIterable {
        case service
        case client
    }

    public var role: Role
    /// DNS names for the SAN; with `ipAddresses`, empty means the local default (NAME,
    /// localhost, 127.0.0.1, ::1).
    public var dnsNames: [String]
    /// IP addresses (v4 or v6 text) for the SAN.
    public var ipAddresses: [String]

    public init(role: Role, dnsNames: [String] = [], ipAddresses: [String] = []) {
        self.role = role
        self.dnsNames = dnsNames
        self.ipAddresses = ipAddresses
    }

    /// The role a name gets unless told otherwise: the four services are `service`, everyone else `client`.
    public static func defaultRole(for name: String) -> Role {
        CertificateNames.services.contains(name) ? .service : .client
    }

    /// The SAN entries for identity `name`; throws for an IP address that does not parse.
    func alternativeNames(for name: String) throws(CertificateIssuerError) -> [GeneralName] {
        if dnsNames.isEmpty && ipAddresses.isEmpty {
            return CertificateTemplates.alternativeNames(for: name)
        }
        var names = dnsNames.map { GeneralName.dnsName($0) }
        for address in ipAddresses {
            guard let bytes = Self.ipBytes(address) else {
                throw CertificateIssuerError(.invalidName, "\"\(address)\" is not an IPv4 or IPv6 address")
            }
            names.append(.ipAddress(ASN1OctetString(contentBytes: bytes[...])))
        }
        return names
    }

    static func ipBytes(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }

    var extendedKeyUsage: [ExtendedKeyUsage.Usage] {
        role == .service ? [.serverAuth, .clientAuth] : [.clientAuth]
    }
}
