import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A real service executable running as a child process, for end-to-end tests.
public final class ServiceProcess: @unchecked Sendable {
    // @unchecked: `process` and the pipes are only touched from the test that owns this
    // object; Foundation's Process is thread-safe for the calls made here (launch, pid, wait).
    public let process: Process
    public let port: Int
    public let stderrPath: String

    /// The folder holding the built executables (beside the test bundle).
    public static var binDirectory: String {
        if let override = ProcessInfo.processInfo.environment["DUDAO_BIN"] { return override }
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var url = URL(fileURLWithPath: exe).deletingLastPathComponent()
        // swift test runs <bin>/dudaoPackageTests.xctest; step out of a bundle folder if there is one.
        while url.path.hasSuffix(".xctest") || url.lastPathComponent == "MacOS" || url.lastPathComponent == "Contents" {
            url = url.deletingLastPathComponent()
        }
        return url.path
    }

    /// Starts `executable` with `arguments` and waits for its `listening on HOST:PORT` line.
    public init(executable: String, arguments: [String], environment: [String: String] = [:], logTo stderrPath: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "\(Self.binDirectory)/\(executable)")
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env["SWIFT_BACKTRACE"] = "enable=no"
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let out = Pipe()
        process.standardOutput = out
        _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
        process.standardError = FileHandle(forWritingAtPath: stderrPath)
        try process.run()
        self.process = process
        self.stderrPath = stderrPath
        // Read stdout until the announce line.
        var buffer = Data()
        let handle = out.fileHandleForReading
        let deadline = Date().addingTimeInterval(60)
        var found: Int?
        while found == nil, Date() < deadline {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            buffer.append(chunk)
            let text = String(decoding: buffer, as: UTF8.self)
            if let line = text.split(separator: "\n").first(where: { $0.contains("listening on") }),
                let portText = line.split(separator: ":").last, let port = Int(portText)
            {
                found = port
            }
        }
        guard let port = found else {
            process.terminate()
            let log = (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? ""
            throw ServiceProcessError(message: "\(executable) did not announce its port; stderr:\n\(log)")
        }
        self.port = port
    }

    public var pid: Int32 { process.processIdentifier }

    /// `kill -9`: no chance to flush or clean up.
    public func kill9() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// SIGTERM and wait.
    public func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }

    /// Resident memory of the process in KiB (from /proc).
    public var residentKiB: Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
        }
        return 0
    }
}

public struct ServiceProcessError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// Runs a CLI command to completion and returns its exit status and standard output.
public func runTool(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, output: String, error: String) {
    try runProgram("\(ServiceProcess.binDirectory)/\(executable)", arguments, environment: environment)
}

/// Runs any program to its end; its exit status, standard output and standard error.
public func runProgram(_ path: String, _ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, output: String, error: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    var env = ProcessInfo.processInfo.environment
    env["SWIFT_BACKTRACE"] = "enable=no"
    for (key, value) in environment { env[key] = value }
    process.environment = env
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
}
