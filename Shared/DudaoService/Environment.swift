#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The value of environment variable `name`, without Foundation.
func environmentValue(_ name: String) -> String? {
    guard let value = getenv(name) else { return nil }
    return String(cString: value)
}

extension ServiceRuntime {
    /// Prints one line on standard output and flushes it at once (scripts and tests wait for it).
    /// One line on standard output, flushed, without telling systemd anything.
    public static func announceLine(_ line: String) {
        print(line)
        fflush(nil)
    }

    /// Also tells systemd the service is ready (`Type=notify`).
    public static func announce(_ line: String) {
        print(line)
        fflush(nil)
        SystemdNotify.send("READY=1")
    }
}
