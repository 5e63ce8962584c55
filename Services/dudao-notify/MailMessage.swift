import Foundation

/// An e-mail as SMTP's DATA carries it: RFC 5322 headers (non-ASCII words as RFC 2047
/// encoded-words), `text/plain; charset=UTF-8`, body in base64 lines of 76 characters.
enum MailMessage {
    static func build(
        from: String, fromName: String, to: [String], subject: String, body: String, messageID: String, date: String,
        extraHeaders: [(String, String)] = []
    ) -> [UInt8] {
        var headers: [(String, String)] = [
            ("From", "\(encodedWords(fromName)) <\(from)>"),
            ("To", to.joined(separator: ", ")),
            ("Subject", encodedWords(subject)),
            ("Date", date),
            ("Message-ID", "<\(messageID)>"),
            ("MIME-Version", "1.0"),
            ("Content-Type", "text/plain; charset=UTF-8"),
            ("Content-Transfer-Encoding", "base64"),
        ]
        headers += extraHeaders
        var text = headers.map { "\($0.0): \($0.1)" }.joined(separator: "\r\n") + "\r\n\r\n"
        let normalized = body.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\n", with: "\r\n")
        let encoded = Data(normalized.utf8).base64EncodedString()
        var index = encoded.startIndex
        while index < encoded.endIndex {
            let end = encoded.index(index, offsetBy: 76, limitedBy: encoded.endIndex) ?? encoded.endIndex
            text += encoded[index..<end] + "\r\n"
            index = end
        }
        return Array(text.utf8)
    }

    /// `text` as it may stand in a header: as is when plain ASCII, otherwise one or more
    /// `=?UTF-8?B?...?=` words of at most 75 characters, folded onto continuation lines.
    static func encodedWords(_ text: String) -> String {
        if text.utf8.allSatisfy({ $0 >= 32 && $0 < 127 }) && text.utf8.count <= 70 { return text }
        var words: [String] = []
        var chunk: [UInt8] = []
        for character in text {
            let bytes = Array(String(character).utf8)
            // 45 bytes encode to 60 base64 characters: with "=?UTF-8?B?" and "?=" a word stays within 75.
            if chunk.count + bytes.count > 45 {
                words.append(word(chunk))
                chunk = []
            }
            chunk += bytes
        }
        if !chunk.isEmpty { words.append(word(chunk)) }
        return words.joined(separator: "\r\n ")
    }

    private static func word(_ bytes: [UInt8]) -> String { "=?UTF-8?B?\(Data(bytes).base64EncodedString())?=" }

    /// DATA's dot-stuffing: a line starting with "." gets another one; every line ends in CRLF,
    /// and the terminating "." line follows.
    static func dotStuffed(_ message: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(message.count + 64)
        var atLineStart = true
        var previous: UInt8 = 0
        for byte in message {
            if byte == UInt8(ascii: "\n"), previous != UInt8(ascii: "\r") { out.append(UInt8(ascii: "\r")) }
            if atLineStart, byte == UInt8(ascii: ".") { out.append(UInt8(ascii: ".")) }
            out.append(byte)
            atLineStart = byte == UInt8(ascii: "\n")
            previous = byte
        }
        if !atLineStart { out += Array("\r\n".utf8) }
        out += Array(".\r\n".utf8)
        return out
    }
}
