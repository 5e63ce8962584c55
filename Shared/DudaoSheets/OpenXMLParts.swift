/// The fixed parts of a workbook (ECMA-376, SpreadsheetML): content types, relationships, the
/// workbook with its sheet list, and a style sheet with a bold header and a text format.
enum OpenXMLParts {
    static let declaration = #"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"#
    static let sheetType = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
    static let relationshipBase = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"

    static func contentTypes(sheets: Int) -> String {
        var out = declaration + #"<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">"#
        out += #"<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>"#
        out += #"<Default Extension="xml" ContentType="application/xml"/>"#
        out += #"<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>"#
        out += #"<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>"#
        for n in 0..<sheets { out += #"<Override PartName="/xl/worksheets/sheet\#(n + 1).xml" ContentType="\#(sheetType)"/>"# }
        return out + "</Types>"
    }

    static let packageRelationships = declaration
        + #"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">"#
        + #"<Relationship Id="rId1" Type="\#(relationshipBase)/officeDocument" Target="xl/workbook.xml"/></Relationships>"#

    static func workbook(sheetNames: [String]) -> String {
        var out = declaration + #"<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="\#(relationshipBase)"><sheets>"#
        for (n, name) in sheetNames.enumerated() {
            out += #"<sheet name="\#(XMLText.escaped(name))" sheetId="\#(n + 1)" r:id="rId\#(n + 1)"/>"#
        }
        return out + "</sheets></workbook>"
    }

    static func workbookRelationships(sheets: Int) -> String {
        var out = declaration + #"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">"#
        for n in 0..<sheets {
            out += #"<Relationship Id="rId\#(n + 1)" Type="\#(relationshipBase)/worksheet" Target="worksheets/sheet\#(n + 1).xml"/>"#
        }
        out += #"<Relationship Id="rId\#(sheets + 1)" Type="\#(relationshipBase)/styles" Target="styles.xml"/>"#
        return out + "</Relationships>"
    }

    /// Cell formats: 0 plain, 1 bold (headers), 2 text (`@`, number format 49).
    static let styles = declaration + #"<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">"#
        + #"<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font><font><b/><sz val="11"/><name val="Calibri"/></font></fonts>"#
        + #"<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>"#
        + #"<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>"#
        + #"<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>"#
        + #"<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>"#
        + #"<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>"#
        + #"<xf numFmtId="49" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>"#
        + #"<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>"#
}
