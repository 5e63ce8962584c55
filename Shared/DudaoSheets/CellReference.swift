/// Spreadsheet column letters: `A` is column 0, `Z` 25, `AA` 26.
public enum CellReference {
    public static func letters(_ column: Int) -> String {
        var n = column + 1
        var scalars: [Unicode.Scalar] = []
        while n > 0 {
            let digit = (n - 1) % 26
            scalars.append(Unicode.Scalar(UInt8(65 + digit)))
            n = (n - 1) / 26
        }
        return String(String.UnicodeScalarView(scalars.reversed()))
    }

    /// The 0-based column of a reference such as `B12`; nil when it has no letters.
    public static func column(_ reference: String) -> Int? {
        var value = 0
        var any = false
        for byte in reference.utf8 {
            let upper = byte & ~0x20
            guard upper >= 65, upper <= 90 else { break }
            value = value * 26 + Int(upper - 64)
            any = true
        }
        return any ? value - 1 : nil
    }
}
