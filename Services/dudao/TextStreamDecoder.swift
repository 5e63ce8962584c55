#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The text encodings `dudao send` reads: UTF-8 (a byte-order mark is dropped) and GB18030,
/// which Chinese Excel writes for "CSV" on many machines.
enum FileEncoding: String, CaseIterable {
    case utf8 = "utf-8"
    case gb18030

    /// `auto`: a UTF-8 BOM, or a first chunk that is valid UTF-8, means UTF-8; otherwise GB18030.
    static func detect(_ head: [UInt8]) -> FileEncoding {
        if head.starts(with: [0xEF, 0xBB, 0xBF]) { return .utf8 }
        return UTF8Prefix.isValid(head) ? .utf8 : .gb18030
    }
}

/// Whether bytes are valid UTF-8, allowing a sequence cut off at the end (a chunk boundary).
enum UTF8Prefix {
    static func isValid(_ bytes: [UInt8]) -> Bool {
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            let length: Int
            switch b {
            case 0x00...0x7F: length = 1
            case 0xC2...0xDF: length = 2
            case 0xE0...0xEF: length = 3
            case 0xF0...0xF4: length = 4
            default: return false
            }
            for k in 1..<length {
                guard i + k < bytes.count else { return true }  // cut off by the chunk
                guard (0x80...0xBF).contains(bytes[i + k]) else { return false }
            }
            i += length
        }
        return true
    }
}

struct TextDecodingError: Error, CustomStringConvertible {
    var description: String
}

/// Decodes a file chunk by chunk into text: a multibyte sequence split between two chunks is
/// carried over, so the text is the same whatever the chunk size. UTF-8 with the standard
/// library; GB18030 with the C library's iconv.
final class TextStreamDecoder {
    let encoding: FileEncoding
    private var carry: [UInt8] = []
    private var first = true
    private var stripMark = true
    private var converter: iconv_t?

    init(_ encoding: FileEncoding) throws {
        self.encoding = encoding
        if encoding == .gb18030 {
            let handle = iconv_open("UTF-8", "GB18030")
            guard let handle, handle != iconv_t(bitPattern: -1) else {
                throw TextDecodingError(description: "this system's iconv cannot decode GB18030")
            }
            converter = handle
        }
    }

    deinit {
        if let converter { iconv_close(converter) }
    }

    /// The text of `chunk` (with what the previous chunk left over); `last`: no more bytes follow.
    func decode(_ chunk: [UInt8], last: Bool) throws -> String {
        var bytes = carry + chunk
        carry = []
        if first {
            first = false
            if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }
        }
        switch encoding {
        case .utf8:
            // Keep an incomplete sequence at the end for the next chunk.
            var end = bytes.count
            if !last {
                var back = 0
                while back < min(3, end), (bytes[end - 1 - back] & 0xC0) == 0x80 { back += 1 }
                let lead = end - 1 - back
                if lead >= 0 {
                    let b = bytes[lead]
                    let need = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1
                    if need > back + 1 { end = lead }
                }
                carry = Array(bytes[end...])
            }
            // One pass validates and decodes (no copy of the chunk, no second scan).
            guard let text = String(validating: bytes[..<end], as: UTF8.self) else {
                throw TextDecodingError(description: "not valid UTF-8 in this part of the file (is it GB18030? pass --encoding gb18030)")
            }
            return text
        case .gb18030:
            var text = try convert(bytes, last: last)
            if stripMark {
                stripMark = false
                if text.unicodeScalars.first == "\u{FEFF}" { text.unicodeScalars.removeFirst() }  // GB18030's BOM, 84 31 95 33
            }
            return text
        }
    }

    private func convert(_ input: [UInt8], last: Bool) throws -> String {
        guard let converter else { return "" }
        var source = input.map { CChar(bitPattern: $0) }
        // GB18030 needs at least as many bytes as UTF-8 for every character but the two-byte
        // ones (3 bytes in UTF-8): twice the input is always enough.
        var output = [CChar](repeating: 0, count: input.count * 2 + 16)
        var consumed = 0
        var produced = 0
        var failure: String?
        source.withUnsafeMutableBufferPointer { inBuffer in
            output.withUnsafeMutableBufferPointer { outBuffer in
                var inPointer = inBuffer.baseAddress
                var inLeft = inBuffer.count
                var outPointer = outBuffer.baseAddress
                var outLeft = outBuffer.count
                while inLeft > 0 {
                    if iconv(converter, &inPointer, &inLeft, &outPointer, &outLeft) == -1 {
                        if errno == EINVAL && !last { break }  // cut off by the chunk: carry it over
                        failure = "not valid GB18030 near byte \(inBuffer.count - inLeft) of a chunk (is the file UTF-8? pass --encoding utf-8)"
                        break
                    }
                }
                consumed = inBuffer.count - inLeft
                produced = outBuffer.count - outLeft
            }
        }
        if let failure { throw TextDecodingError(description: failure) }
        carry = Array(input[consumed...])
        return String(decoding: output[..<produced].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
