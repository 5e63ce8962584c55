import DudaoCore
import Foundation

/// Certificates that must no longer be accepted: by serial number (hex, as `dudao certs revoke`
/// writes it) or by identity (every certificate with that common name).
///
/// The file is JSON: `{"serials": ["5F3A…"], "identities": ["town-dongcheng"]}`. Every listening
/// port checks a client against it right after the TLS handshake, before any frame is read.
public struct RevocationList: Sendable, Equatable {
    public var serials: Set<String>
    public var identities: Set<String>

    public static let empty = RevocationList(serials: [], identities: [])

    public init(serials: Set<String>, identities: Set<String>) {
        self.serials = Set(serials.map { $0.uppercased() })
        self.identities = identities
    }

    /// Reads a revocation file; a mistake is reported with the file, its line and the member.
    public init(path: String) throws(TLSMaterialError) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TLSMaterialError("\(path): cannot read the revocation list")
        }
        let bytes = Array(data)
        let value: JSONValue
        do { value = try JSONParser.parse(bytes) } catch {
            throw TLSMaterialError("\(path): line \(error.line(in: bytes)): not valid JSON (\(error))")
        }
        guard case .object(let object) = value else { throw TLSMaterialError("\(path): the revocation list must be a JSON object") }
        var serials: Set<String> = []
        var identities: Set<String> = []
        for (member, entry) in object {
            guard let array = entry.arrayValue, array.allSatisfy({ $0.stringValue != nil }) else {
                throw TLSMaterialError("\(path): \(member) must be an array of strings")
            }
            let strings = array.compactMap(\.stringValue)
            switch member {
            case "serials":
                for serial in strings where !serial.allSatisfy(\.isHexDigit) || serial.isEmpty {
                    throw TLSMaterialError("\(path): serials: \"\(serial)\" is not a hexadecimal serial number")
                }
                serials.formUnion(strings)
            case "identities": identities.formUnion(strings)
            default: throw TLSMaterialError("\(path): \(member) is not known; use serials, identities")
            }
        }
        self.init(serials: serials, identities: identities)
    }

    /// Why a certificate with this identity and serial is refused, or `nil` when it is not revoked.
    public func reason(identity: String, serial: String) -> String? {
        if identities.contains(identity) { return "identity \(identity) is revoked" }
        if serials.contains(serial.uppercased()) { return "certificate serial \(serial) is revoked" }
        return nil
    }
}

/// A TLS file (certificate, key, CA, revocation list) that cannot be used, said so an operator can fix it.
public struct TLSMaterialError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
