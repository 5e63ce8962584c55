/// The departments of the plan's division of duties (六(二)), for routing, messages and the
/// dashboard's indicator pages.
public enum Department {
    /// Built-in department ids and their Chinese names.
    public static let names: [String: String] = [
        "education": "市教育局",
        "police": "市公安局",
        "finance": "市财政局",
        "staffing": "市委编办",
        "hr": "市人社局",
        "natural_resources": "市自然资源局",
        "housing": "市住建局",
        "development": "市发改局",
        "disabled_federation": "市残联",
        "leading_group": "领导小组办公室",
    ]

    /// The town template: `town:*` in a routes file stands for the town of the alert.
    public static let townTemplate = "town:*"

    /// Whether `id` names one town's government (`town:dongcheng`).
    public static func townID(of id: String) -> String? {
        guard id.hasPrefix("town:"), id != townTemplate else { return nil }
        let town = String(id.dropFirst(5))
        return town.isEmpty ? nil : town
    }
}
