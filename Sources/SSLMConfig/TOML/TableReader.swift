import Foundation
import SSLMCore

/// Collects the diagnostics of one load, in the order found.
final class DiagnosticSink {
    private(set) var diagnostics: [Diagnostic] = []

    func add(_ diagnostic: Diagnostic) { diagnostics.append(diagnostic) }

    func error(_ file: String, _ table: String?, _ key: String?, _ message: String) {
        add(.error(file: file, table: table, key: key, message))
    }

    func warning(_ file: String, _ table: String?, _ key: String?, _ message: String) {
        add(.warning(file: file, table: table, key: key, message))
    }
}

/// Typed, diagnosing access to one TOML table of one file.
///
/// Every accessor marks its key as known; `reportUnknownKeys()` then warns about the rest. A value of
/// the wrong type is an error naming the file, table and key, and the accessor returns the default, so
/// loading continues and every problem of the run is reported together.
final class TableReader {
    let file: String
    let table: String?
    let values: [String: TOMLNode]
    let sink: DiagnosticSink
    private var known: Set<String> = []

    init(file: String, table: String?, values: [String: TOMLNode], sink: DiagnosticSink) {
        self.file = file
        self.table = table
        self.values = values
        self.sink = sink
    }

    func error(_ key: String?, _ message: String) { sink.error(file, table, key, message) }
    func warning(_ key: String?, _ message: String) { sink.warning(file, table, key, message) }

    /// The raw node, marking the key known.
    func node(_ key: String) -> TOMLNode? {
        known.insert(key)
        return values[key]
    }

    func has(_ key: String) -> Bool { values[key] != nil }

    /// Marks keys as known without reading them (accepted for compatibility, ignored).
    func accept(_ keys: String...) { known.formUnion(keys) }

    private func typeError(_ key: String, expected: String, found: TOMLNode) {
        error(key, "expected \(expected), found \(found.typeName) \(found.shown)")
    }

    func string(_ key: String) -> String? {
        guard let node = node(key) else { return nil }
        if case .string(let s) = node { return s }
        typeError(key, expected: "a string", found: node)
        return nil
    }

    func string(_ key: String, default value: String) -> String { string(key) ?? value }

    func int(_ key: String) -> Int? {
        guard let node = node(key) else { return nil }
        if case .int(let i) = node { return i }
        typeError(key, expected: "an integer", found: node)
        return nil
    }

    /// An integer within `range`; a value outside it is an error naming the range and the value, and gives nil.
    /// `unit` follows the range in the message ("days", "seconds").
    func int(_ key: String, in range: ClosedRange<Int>, unit: String, note: String = "") -> Int? {
        guard let value = int(key) else { return nil }
        guard range.contains(value) else {
            error(key, "out of range: expected \(Self.text(range)) \(unit)\(note), found \(value)")
            return nil
        }
        return value
    }

    /// A number within `range`; a value outside it is an error naming the range and the value, and gives nil.
    func number(_ key: String, in range: ClosedRange<Double>, unit: String) -> Double? {
        guard let value = number(key) else { return nil }
        guard range.contains(value) else {
            error(key, "out of range: expected \(Self.text(range)) \(unit), found \(Self.text(value))")
            return nil
        }
        return value
    }

    /// `1–36500`, with thousands left unseparated so the bound can be pasted back into the file.
    static func text(_ range: ClosedRange<Int>) -> String { "\(range.lowerBound)–\(range.upperBound)" }

    static func text(_ range: ClosedRange<Double>) -> String { "\(text(range.lowerBound))–\(text(range.upperBound))" }

    /// A number as written in TOML: `30`, `2.5`, `1e+308`.
    static func text(_ value: Double) -> String {
        if value.isFinite, value == value.rounded(), abs(value) < 1e15 { return String(Int(value)) }
        return String(value)
    }

    /// An integer, also accepting a string of digits (ssl-mgr converts `rsa_bits = '4096'`).
    func lenientInt(_ key: String) -> Int? {
        guard let node = node(key) else { return nil }
        switch node {
        case .int(let i): return i
        case .string(let s):
            if let i = Int(s.trimmingCharacters(in: .whitespaces)) { return i }
        default: break
        }
        typeError(key, expected: "an integer", found: node)
        return nil
    }

    func number(_ key: String) -> Double? {
        guard let node = node(key) else { return nil }
        switch node {
        case .int(let i): return Double(i)
        case .double(let d):
            if d.isFinite { return d }
            error(key, "expected a finite number, found \(d)")
            return nil
        default:
            typeError(key, expected: "a number", found: node)
            return nil
        }
    }

    func bool(_ key: String) -> Bool? {
        guard let node = node(key) else { return nil }
        if case .bool(let b) = node { return b }
        typeError(key, expected: "a boolean (true or false)", found: node)
        return nil
    }

    /// An array of strings. A plain string is an error unless `allowSingle`, in which case it is a one-item list
    /// (an empty string is an empty list).
    func stringList(_ key: String, allowSingle: Bool = false) -> [String]? {
        guard let node = node(key) else { return nil }
        switch node {
        case .string(let s) where allowSingle:
            return s.isEmpty ? [] : [s]
        case .array(let items):
            var result: [String] = []
            for (index, item) in items.enumerated() {
                guard case .string(let s) = item else {
                    error(key, "item \(index + 1): expected a string, found \(item.typeName) \(item.shown)")
                    return nil
                }
                result.append(s)
            }
            return result
        default:
            typeError(
                key, expected: allowSingle ? "a string or an array of strings" : "an array of strings",
                found: node)
            return nil
        }
    }

    /// A sub-table value (`key = { … }` or `[key]`).
    func subtable(_ key: String) -> [String: TOMLNode]? {
        guard let node = node(key) else { return nil }
        if case .table(let t) = node { return t }
        typeError(key, expected: "a table", found: node)
        return nil
    }

    /// Warns about every key no accessor asked for. `hints` maps a common misspelling to the right key.
    func reportUnknownKeys(hints: [String: String] = [:]) {
        for key in values.keys.sorted() where !known.contains(key) {
            var message = "unknown key (ignored)"
            if let hint = hints[key] { message += "; did you mean \"\(hint)\"?" }
            if case .table = values[key] { message = "unknown table (ignored)" }
            warning(key, message)
        }
    }
}
