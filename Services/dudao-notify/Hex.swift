import Crypto

/// Short stable identifiers and signatures.
enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    static func encode<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> String {
        var out: [UInt8] = []
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `prefix` + the first `length` hex digits of SHA-256 over the parts joined by newlines.
    static func stableID(_ prefix: String, _ parts: [String], length: Int = 15) -> String {
        let digest = SHA256.hash(data: Array(parts.joined(separator: "\n").utf8))
        return prefix + String(encode(digest).prefix(length))
    }

    /// `sha256=<hex HMAC-SHA256 of body under secret>`: the `X-Dudao-Signature` header.
    static func signature(body: [UInt8], secret: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Array(secret.utf8)))
        return "sha256=" + encode(mac)
    }
}
