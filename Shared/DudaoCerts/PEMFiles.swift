import Foundation

/// File helpers for PEM documents: plain reads, atomic writes, and owner-only (0600) key files.
enum PEMFiles {
    /// Whether a file (or anything) exists at `path`.
    static func exists(_ path: String) -> Bool {
        FileManager.default.fileExists(atPath: path)
    }

    /// Creates `directory` (and parents) if it does not exist yet.
    static func createDirectory(_ directory: String) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else {
                throw CertificateIssuerError(.writeFailed, "\(directory) exists and is not a directory")
            }
            return
        }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw CertificateIssuerError(.writeFailed, "cannot create directory \(directory): \(error)")
        }
    }

    /// Reads `path` as UTF-8 text.
    static func read(_ path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CertificateIssuerError(.unreadableFile, "cannot read \(path)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw CertificateIssuerError(.unreadableFile, "\(path) is not a UTF-8 PEM file")
        }
        return text
    }

    /// Atomically replaces `path` with `pem` (newline-terminated). With `privateKey` the file is
    /// mode 0600 from its creation, so the key is never readable by others, even briefly.
    static func write(_ pem: String, to path: String, privateKey: Bool) throws {
        let text = pem.hasSuffix("\n") ? pem : pem + "\n"
        let temporary = path + ".tmp-\(UInt64.random(in: 0...UInt64.max))"
        let manager = FileManager.default
        do {
            let attributes: [FileAttributeKey: Any] = privateKey ? [.posixPermissions: 0o600] : [:]
            guard manager.createFile(atPath: temporary, contents: nil, attributes: attributes) else {
                throw CertificateIssuerError(.writeFailed, "cannot create \(temporary)")
            }
            if privateKey {
                // Creating then chmod-ing leaves no window: the file is still empty at this point.
                try manager.setAttributes([.posixPermissions: 0o600], ofItemAtPath: temporary)
            }
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: temporary))
            do {
                try handle.write(contentsOf: Data(text.utf8))
                try handle.synchronize()
                try handle.close()
            } catch {
                try? handle.close()
                throw error
            }
            guard rename(temporary, path) == 0 else {
                throw CertificateIssuerError(.writeFailed, "cannot move \(temporary) to \(path) (errno \(errno))")
            }
        } catch let error as CertificateIssuerError {
            try? manager.removeItem(atPath: temporary)
            throw error
        } catch {
            try? manager.removeItem(atPath: temporary)
            throw CertificateIssuerError(.writeFailed, "cannot write \(path): \(error)")
        }
    }
}
