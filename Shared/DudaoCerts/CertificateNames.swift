/// Identity names used for Dudao certificates.
///
/// An identity is the subject common name (CN) of a client or server certificate; it is also
/// the base name of the `NAME.pem` / `NAME.key` files written by ``CertificateIssuer``.
public enum CertificateNames {
    /// Identities of the services, in this order: "dudao-ingest", "dudao-indicators", "dudao-safety", "dudao-notify".
    public static let services: [String] = ["dudao-ingest", "dudao-indicators", "dudao-safety", "dudao-notify"]

    /// The longest identity accepted by ``isValid(_:)``; 64 is also the X.509 upper bound for a common name.
    public static let maximumLength = 64

    /// Whether NAME is usable as an identity: 1–64 chars of [A-Za-z0-9._-].
    ///
    /// - Parameter name: The candidate identity.
    /// - Returns: `true` when every character is an ASCII letter, digit, `.`, `_` or `-`
    ///   and the length is between 1 and ``maximumLength``.
    public static func isValid(_ name: String) -> Bool {
        let bytes = name.utf8
        guard (1...maximumLength).contains(bytes.count) else { return false }
        return bytes.allSatisfy(isAllowed)
    }

    /// The name reserved for the CA's own files (`ca.pem`, `ca.key`); ``CertificateIssuer`` refuses
    /// to issue a leaf with this name, compared case-insensitively.
    static let reservedCAName = "ca"

    private static func isAllowed(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"),
             UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
            return true
        default:
            return false
        }
    }
}
