/// Who runs a registered institution (`registry.institution` field `ownership`).
public enum Ownership: String, Sendable, CaseIterable {
    case `public`
    /// A private kindergarten recognised as inclusive (普惠性民办).
    case inclusivePrivate = "inclusive_private"
    case `private`
}
