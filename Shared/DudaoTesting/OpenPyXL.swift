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
