import Foundation

/// openpyxl from PyPI, in a virtual environment under `.build/` made on first use: the
/// independent xlsx reader and writer the workbook tests check `dudao` against.
public enum OpenPyXL {
    /// The virtual environment's python, with openpyxl importable.
    public static func python(repoRoot: String) throws -> String {
        let venv = repoRoot + "/.build/openpyxl-venv"
        let python = venv + "/bin/python"
        if FileManager.default.fileExists(atPath: python),
            (try? runProgram(python, ["-c", "import openpyxl"]))?.status == 0
        {
            return python
        }
        let made = try runProgram("/usr/bin/env", ["python3", "-m", "venv", venv])
        guard made.status == 0 else { throw SetupFailure("python3 -m venv \(venv) failed: \(made.error)") }
        let pip = try runProgram(python, ["-m", "pip", "install", "--quiet", "openpyxl"])
        guard pip.status == 0 else { throw SetupFailure("pip install openpyxl failed (PyPI reachable?): \(pip.error)") }
        return python
    }

    public struct SetupFailure: Error, CustomStringConvertible {
        public var description: String
        init(_ description: String) { self.description = description }
    }
}

extension OpenPyXL {
    /// Every sheet of a workbook as openpyxl reads it: sheet title → rows of cells, each cell
    /// `str(value)` (`""` for an empty one).
    public static func sheets(of path: String, repoRoot: String) throws -> [String: [[String]]] {
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
