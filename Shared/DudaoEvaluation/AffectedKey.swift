/// An (indicator, year, scope) whose value may have changed after a record was applied.
///
/// Hashing uses a digest of the three fields worked out once (the engine caches the digests
/// of indicator ids and scopes), so collecting thousands of keys hashes no strings.
public struct AffectedKey: Hashable, Sendable, CustomStringConvertible {
    /// The indicator id.
    public let indicator: String
    /// The year whose value may have changed; nil = every year (the record has no `year`).
    public let year: Int?
    /// The scope whose value may have changed.
    public let scope: Scope
    private let digest: UInt64

    /// A key for `indicator` in `year` (nil = every year) at `scope`.
    public init(indicator: String, year: Int?, scope: Scope) {
        self.init(
            indicator: indicator, year: year, scope: scope, indicatorDigest: AffectedKey.fnv(indicator),
            scopeDigest: AffectedKey.fnv(scope.text))
    }

    /// With digests of `indicator` and `scope.text` already known (``fnv(_:)``).
    init(indicator: String, year: Int?, scope: Scope, indicatorDigest: UInt64, scopeDigest: UInt64) {
        self.indicator = indicator
        self.year = year
        self.scope = scope
        digest = (indicatorDigest &* 0x9E37_79B9_7F4A_7C15) ^ (scopeDigest &* 0xC2B2_AE3D_27D4_EB4F) ^ UInt64(bitPattern: Int64(year ?? 0))
    }

    /// 64-bit FNV-1a of the UTF-8 bytes.
    static func fnv(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01B3
        }
        return hash
    }

    /// Equal when indicator, year and scope are.
    public static func == (lhs: AffectedKey, rhs: AffectedKey) -> Bool {
        lhs.digest == rhs.digest && lhs.year == rhs.year && lhs.indicator == rhs.indicator && lhs.scope == rhs.scope
    }

    /// Hashes the precomputed digest.
    public func hash(into hasher: inout Hasher) { hasher.combine(digest) }

    /// `indicator@year/scope`, `*` for every year.
    public var description: String { "\(indicator)@\(year.map(String.init) ?? "*")/\(scope.text)" }
}
