import DudaoCore

extension ConfigFile {
    /// Refuses what the service did not read: a member of the file (other than a `_…` comment)
    /// or an environment variable with the prefix that names no setting it asked for. Call it
    /// once a service's settings are all read (at the end of its `…Config` initializer): a typo
    /// (`listen.prot`, `DUDAO_INGEST_MAX_FRAME_BYTE`) is never silently ignored.
    public func checkUnknownKeys() throws(ConfigError) {
        let (accesses, subtrees) = recorder.asked
        let known = Set(accesses.keys).union(Self.readElsewhere).union(subtrees)
        var problems: [String] = []

        func covered(_ path: String) -> Bool {
            if accesses[path] != nil || Self.readElsewhere.contains(path) { return true }
            var prefix = ""
            for component in path.split(separator: ".") {
                prefix = prefix.isEmpty ? String(component) : "\(prefix).\(component)"
                if subtrees.contains(prefix) { return true }
            }
            return false
        }
        func hasKnown(under path: String) -> Bool { known.contains { $0.hasPrefix(path + ".") } }

        func walk(_ object: JSONObject, _ parent: String) {
            for (name, value) in object where !name.hasPrefix("_") {
                let path = parent.isEmpty ? name : "\(parent).\(name)"
                if covered(path) {
                    if case .object = value, !subtrees.contains(path), !hasKnown(under: path) {
                        problems.append("\(path) must be a value, not an object")
                    }
                    continue
                }
                if case .object(let child) = value, hasKnown(under: path) {
                    walk(child, path)
                } else if hasKnown(under: path) {
                    problems.append("\(path) must be an object (of \(Self.children(of: path, in: known).joined(separator: ", ")))")
                } else {
                    problems.append("\(path) is not a setting of \(service)\(Self.suggestion(for: path, in: known)); \(Self.knownBeside(path, in: known))")
                }
            }
        }
        walk(root, "")

        // `log_format` is known in the file only: its variable is DUDAO_LOG_FORMAT, for every service.
        let names = Dictionary(
            known.subtracting(Self.readElsewhere).map { (environmentName($0), $0) }, uniquingKeysWith: { first, _ in first })
        for variable in overrides.keys.sorted() where names[variable] == nil {
            let guess = Self.closest(to: variable, among: Array(names.keys)).map { " (did you mean \($0)?)" } ?? ""
            problems.append(
                "environment variable \(variable) is not a setting of \(service)\(guess); known: "
                    + names.keys.sorted().joined(separator: ", "))
        }
        guard problems.isEmpty else { throw ConfigError("\(path): " + problems.joined(separator: "; ")) }
    }

    /// The effective settings, one `key=value` each in key order, with where the value came
    /// from (`(default)`, or the environment variable; nothing for the file) and every secret
    /// as `<redacted>`. What a service logs at start.
    public var redactedDescription: String {
        recorder.asked.accesses.sorted { $0.key < $1.key }.compactMap { key, access in
            guard access.provider != nil || access.usedDefault else { return nil }
            let shown = access.isSecret || Self.isSecretKey(key) ? "<redacted>" : (access.shown ?? "")
            let origin = access.usedDefault ? " (default)" : access.provider == fileProviderName ? "" : " (\(environmentName(key)))"
            return "\(key)=\(shown)\(origin)"
        }.joined(separator: ", ")
    }

    // MARK: Messages

    /// The names known next to `path`: the members of its parent, or the top-level ones.
    static func knownBeside(_ path: String, in known: Set<String>) -> String {
        let components = path.split(separator: ".")
        guard components.count > 1 else {
            return "known: " + Set(known.map { String($0.split(separator: ".")[0]) }).sorted().joined(separator: ", ")
        }
        let parent = components.dropLast().joined(separator: ".")
        return "known in \(parent): " + children(of: parent, in: known).joined(separator: ", ")
    }

    static func children(of parent: String, in known: Set<String>) -> [String] {
        Set(known.compactMap { key -> String? in
            guard key.hasPrefix(parent + ".") else { return nil }
            return String(key.dropFirst(parent.count + 1).split(separator: ".")[0])
        }).sorted()
    }

    /// A known path as deep as `path` that is a likely typo of it.
    static func suggestion(for path: String, in known: Set<String>) -> String {
        let depth = path.split(separator: ".").count
        let candidates = Set(known.map { $0.split(separator: ".").prefix(depth).joined(separator: ".") })
        return closest(to: path, among: Array(candidates)).map { " (did you mean \($0)?)" } ?? ""
    }

    /// The candidate at the smallest edit distance from `word`, if it is a likely typo (at most
    /// 2 edits, and fewer than a third of the word).
    static func closest(to word: String, among candidates: [String]) -> String? {
        let limit = min(2, max(1, word.count / 3))
        return candidates.map { ($0, editDistance(word, $0)) }.filter { $0.1 <= limit }.min { ($0.1, $0.0) < ($1.1, $1.0) }?.0
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}
