/// What must already exist for a feed to be accepted (checked later against the ``Registry``,
/// in commit order).
public enum FeedReference: Sendable, Equatable {
    /// The town `id` must be registered; `path` is the body field that names it.
    case town(id: String, path: String)
    /// The institution `id` must be registered; `path` is the body field that names it.
    ///
    /// `levels`: `nil` = any level; otherwise the institution must have one of these levels,
    /// else `invalid_field` at `path`.
    case institution(id: String, path: String, levels: Set<InstitutionLevel>?)
}
