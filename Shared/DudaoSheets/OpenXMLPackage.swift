import Foundation
import XMLCoder

/// A relationships part (`_rels/.rels`, `xl/_rels/workbook.xml.rels`), decoded with XMLCoder.
struct OpenXMLRelationships: Decodable {
    struct Entry: Decodable {
        var id: String
        var type: String
        var target: String

        private enum CodingKeys: String, CodingKey {
            case id = "Id"
            case type = "Type"
            case target = "Target"
        }
    }

    var entries: [Entry]

    static func decode(_ data: Data) throws -> OpenXMLRelationships {
        let decoder = XMLDecoder()
        decoder.shouldProcessNamespaces = true
        do {
            return try decoder.decode(OpenXMLRelationships.self, from: data)
        } catch {
            throw XlsxError("unreadable relationships part: \(error)")
        }
    }

    /// The part a relationship points at, resolved against `base` (its source's folder).
    func target(id: String, base: String) -> String? {
        entries.first { $0.id == id }.map { Self.resolve($0.target, base: base) }
    }

    func target(typeSuffix: String, base: String) -> String? {
        entries.first { $0.type.hasSuffix(typeSuffix) }.map { Self.resolve($0.target, base: base) }
    }

    /// `worksheets/sheet1.xml` from `xl` is `xl/worksheets/sheet1.xml`; `/xl/...` is absolute;
    /// `..` steps up.
    static func resolve(_ target: String, base: String) -> String {
        var parts = target.hasPrefix("/") ? [] : base.split(separator: "/").map(String.init)
        for piece in target.split(separator: "/") {
            if piece == ".." {
                _ = parts.popLast()
            } else if piece != "." {
                parts.append(String(piece))
            }
        }
        return parts.joined(separator: "/")
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        entries = try container.decodeIfPresent([Entry].self, forKey: .entries) ?? []
    }

    private enum CodingKeys: String, CodingKey { case entries = "Relationship" }
}

/// `xl/workbook.xml`: the sheets in the order Excel shows them, each with its relationship id.
struct OpenXMLWorkbook: Decodable {
    struct Sheets: Decodable {
        var sheet: [Sheet]
    }

    struct Sheet: Decodable {
        var name: String
        /// The `r:id` attribute (the relationship's id).
        var id: String

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: Key.self)
            name = try container.decode(String.self, forKey: Key("name"))
            // Prefixed as the writer declared it: `r:id` almost always; the bare name otherwise.
            let idKey = container.allKeys.first { $0.stringValue == "r:id" || $0.stringValue.hasSuffix(":id") || $0.stringValue == "id" }
            guard let idKey else {
                throw XlsxError("sheet \"\(name)\" has no r:id")
            }
            id = try container.decode(String.self, forKey: idKey)
        }
    }

    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ name: String) { stringValue = name }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    var sheets: Sheets

    static func sheets(_ data: Data) throws -> [Sheet] {
        let decoder = XMLDecoder()
        decoder.shouldProcessNamespaces = true
        do {
            return try decoder.decode(OpenXMLWorkbook.self, from: data).sheets.sheet
        } catch {
            throw XlsxError("unreadable workbook part: \(error)")
        }
    }
}
