/// The enumerated words of feed bodies (SPEC section 3), spelled as on the wire by their raw
/// values. The validator accepts exactly these; the spreadsheet columns, the JSON Schemas and the
/// catalog's formula language take their choices from `allCases`.

/// `registry.town` field `kind`.
public enum TownKind: String, Sendable, CaseIterable {
    case town
    /// A street office (街道).
    case street
}

/// `preschool.census` class field `level`.
public enum PreschoolClassLevel: String, Sendable, CaseIterable {
    case small
    case middle
    case large
    /// A mixed-age class (混龄班).
    case mixed
}

/// `project.progress` field `kind`: what the project builds.
public enum ProjectKind: String, Sendable, CaseIterable {
    case kindergarten
    case primary
    case junior
}

/// `project.progress` field `status`.
public enum ProjectStatus: String, Sendable, CaseIterable {
    case planned
    case building
    case done
}

/// `safety.heartbeat` field `device_kind`.
public enum DeviceKind: String, Sendable, CaseIterable {
    /// A one-key police alarm (一键报警).
    case alarm
    /// A CCTV link to the police (视频联网).
    case cctvLink = "cctv_link"

    /// How people read it (alerts, reports).
    public var nameZh: String { self == .alarm ? "一键报警设备" : "视频联网设备" }
}

/// `safety.heartbeat` field `status`.
public enum DeviceStatus: String, Sendable, CaseIterable {
    case ok
    case fault
}

extension CaseIterable where Self: RawRepresentable, RawValue == String {
    /// The wire spellings, in declaration order.
    static var wireValues: [String] { allCases.map(\.rawValue) }
}
