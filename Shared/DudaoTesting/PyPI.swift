import Foundation

/// Independent checkers from PyPI, in a virtual environment under `.build/` made on first use:
/// openpyxl (the xlsx reader and writer the workbook tests check `dudao` against) and
/// jsonschema with rfc3339-validator (the draft 2020-12 validator the schemas are checked
/// with). CI runs the client kit's tests with the same python.
public enum PyPI {
    /// The virtual environment's python (deploy/pypi-venv.sh makes it on first use).
    public static func python(repoRoot: String) throws -> String {
        let made = try runProgram(repoRoot + "/deploy/pypi-venv.sh", [])
        guard made.status == 0 else { throw SetupFailure("deploy/pypi-venv.sh failed (PyPI reachable?): \(made.error)") }
        return made.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    public struct SetupFailure: Error, CustomStringConvertible {
        public var description: String
        init(_ description: String) { self.description = description }
    }
}

extension PyPI {
    /// Every sheet of a workbook as openpyxl reads it: sheet title → rows of cells, each cell
    /// `str(value)` (`""` for an empty one).
    public static func openpyxlSheets(of path: String, repoRoot: String) throws -> [String: [[String]]] {
        let script = """
            import json, sys, openpyxl
            wb = openpyxl.load_workbook(sys.argv[1])
            print(json.dumps({ws.title: [["" if v is None else str(v) for v in row] for row in ws.iter_rows(values_only=True)]
                              for ws in wb.worksheets}, ensure_ascii=False))
            """
        let result = try runProgram(try python(repoRoot: repoRoot), ["-c", script, path])
        guard result.status == 0 else { throw SetupFailure("openpyxl could not read \(path): \(result.error)") }
        let decoded = try JSONSerialization.jsonObject(with: Data(result.output.utf8))
        guard let sheets = decoded as? [String: [[String]]] else { throw SetupFailure("unexpected openpyxl output: \(result.output)") }
        return sheets
    }
}
