/// A problem found in user input (a config file, a command line, a state file), located precisely.
///
/// A diagnostic names the file, the table and key when there is one, what was expected and what was
/// found. It is a value: loaders collect every diagnostic of a run instead of stopping at the first.
/// It must never carry private key material.
public struct Diagnostic: Sendable, Hashable, CustomStringConvertible {
    /// How serious the problem is. Errors make `sslm config check` (and every command that loads the
    /// config) fail; warnings are printed and the run goes on.
    public enum Severity: String, Sendable, Hashable, Comparable, Codable {
        case warning
        case error

        public static func < (lhs: Severity, rhs: Severity) -> Bool {
            lhs == .warning && rhs == .error
        }
    }

    public var severity: Severity
    /// Path of the file as shown to the user (relative to the topdir when possible, e.g. `conf.d/ca-info.conf`).
    public var file: String
    /// The TOML table, e.g. `KeyOpts`, `globals`, `groups[2]`; nil for top-level keys or whole-file problems.
    public var table: String?
    /// The key, e.g. `ec_algo`; nil when the problem concerns a whole table or file.
    public var key: String?
    /// What is wrong, what was found and what was expected.
    public var message: String

    public init(_ severity: Severity, file: String, table: String? = nil, key: String? = nil, _ message: String) {
        self.severity = severity
        self.file = file
        self.table = table
        self.key = key
        self.message = message
    }

    public static func error(file: String, table: String? = nil, key: String? = nil, _ message: String) -> Diagnostic {
        Diagnostic(.error, file: file, table: table, key: key, message)
    }

    public static func warning(file: String, table: String? = nil, key: String? = nil, _ message: String)
        -> Diagnostic
    {
        Diagnostic(.warning, file: file, table: table, key: key, message)
    }

    /// `conf.d/example.com/mail-ec: [KeyOpts] ec_algo: unknown curve "secp999r1" (expected …)`.
    public var description: String {
        var location = file
        var parts: [String] = []
        if let table { parts.append("[\(table)]") }
        if let key { parts.append(key) }
        if !parts.isEmpty { location += ": " + parts.joined(separator: " ") }
        let prefix = severity == .warning ? "warning: " : "error: "
        return prefix + location + ": " + message
    }
}

extension Array where Element == Diagnostic {
    /// True when at least one diagnostic is an error.
    public var hasErrors: Bool { contains { $0.severity == .error } }
    public var errors: [Diagnostic] { filter { $0.severity == .error } }
    public var warnings: [Diagnostic] { filter { $0.severity == .warning } }
}
