/// The catalog the project ships, `deploy/catalog/enping-2023-2025.json`, compiled into the
/// binary (a SwiftPM resource embedded in code: `Resources/` links to the file), for the
/// benchmark and for tools that run without the deploy tree.
public enum BuiltInCatalog {
    /// The Enping 2023–2025 catalog text.
    public static var enpingText: String { String(decoding: PackageResources.enping_2023_2025_json, as: UTF8.self) }

    /// The Enping 2023–2025 catalog, parsed.
    public static func enping() throws(CatalogError) -> Catalog {
        try Catalog.parse(PackageResources.enping_2023_2025_json, name: "enping-2023-2025.json (built in)")
    }
}
