import TOMLKit

/// A parsed TOML value as a plain Swift value.
///
/// TOMLKit hands out reference types that point into a C++ document; sslm converts the whole document
/// into this enum at once, so the loader works on immutable values and never on dangling pointers.
enum TOMLNode: Sendable, Equatable {
    case string(String)
    case int(Int)
    case double(Double)
    case bool(Bool)
    /// Dates and times are kept as their TOML text; sslm has no key of these types.
    case date(String)
    case array([TOMLNode])
    case table([String: TOMLNode])

    /// Parses a whole document. Throws `TOMLSyntaxError` with line and column.
    static func parse(_ text: String) throws(TOMLSyntaxError) -> [String: TOMLNode] {
        // toml++ reads C strings: an embedded NUL would silently truncate the document.
        if text.utf8.contains(0) {
            throw TOMLSyntaxError(
                message: "the file contains a NUL byte (is it a binary file?)", line: nil, column: nil)
        }
        let table: TOMLTable
        do {
            table = try TOMLTable(string: NULEscapes.marked(text))
        } catch let error as TOMLParseError {
            throw TOMLSyntaxError(
                message: error.description, line: error.source.begin.line,
                column: error.source.begin.column)
        } catch {
            throw TOMLSyntaxError(message: String(describing: error), line: nil, column: nil)
        }
        return convert(table: table)
    }

    private static func convert(table: TOMLTable) -> [String: TOMLNode] {
        var result: [String: TOMLNode] = [:]
        for key in table.keys {
            if let value = table[key] { result[key] = convert(value: value) }
        }
        return result
    }

    private static func convert(value: any TOMLValueConvertible) -> TOMLNode {
        switch value.type {
        case .string: return .string(value.string ?? "")
        case .int: return .int(value.int ?? 0)
        case .double: return .double(value.double ?? 0)
        case .bool: return .bool(value.bool ?? false)
        case .table: return .table(value.table.map(convert(table:)) ?? [:])
        case .array:
            guard let array = value.array else { return .array([]) }
            return .array(array.map { convert(value: $0) })
        case .date, .time, .dateTime: return .date(value.debugDescription)
        }
    }

    /// A control character in a string or a key name, found by `sanitized(_:)`.
    struct ControlCharacter: Sendable, Equatable {
        /// The enclosing tables, outermost first (`["renew_info"]`, `["groups[2]"]`); empty at the top level.
        var tables: [String]
        /// The key whose value (or name) holds the character.
        var key: String
        var message: String
    }

    /// The document with every control character in string values and key names replaced by U+FFFD, and
    /// where each was. Control characters are C0 (U+0000–U+001F) except tab, DEL and C1 (U+0080–U+009F);
    /// the noncharacters U+FFFE and U+FFFF count too (U+FFFF is how `NULEscapes` marks an escaped NUL).
    ///
    /// One scan of the parsed document covers every key, including those read as raw nodes: no string with
    /// a NUL reaches a file name, a certificate or a command (see `NULEscapes`). The replacement only keeps
    /// later diagnostics readable; the caller reports each finding as an error, so the configuration is never
    /// used.
    static func sanitized(_ document: [String: TOMLNode]) -> ([String: TOMLNode], [ControlCharacter]) {
        var findings: [ControlCharacter] = []
        let result = sanitize(table: document, tables: [], findings: &findings)
        return (result, findings)
    }

    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        (scalar.value < 0x20 && scalar != "\t") || scalar.value == 0x7F || (0x80...0x9F).contains(scalar.value)
            || scalar == NULEscapes.marker || scalar.value == 0xFFFE
    }

    private static func clean(_ text: String) -> (String, Unicode.Scalar?) {
        guard let first = text.unicodeScalars.first(where: isControl) else { return (text, nil) }
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars { out.append(isControl(scalar) ? "\u{FFFD}" : scalar) }
        return (String(out), first)
    }

    private static func describe(_ scalar: Unicode.Scalar) -> String {
        if scalar == NULEscapes.marker { return "U+0000 (NUL, or the noncharacter U+FFFF)" }
        let hex = String(scalar.value, radix: 16, uppercase: true)
        return "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
    }

    private static func sanitize(table: [String: TOMLNode], tables: [String], findings: inout [ControlCharacter])
        -> [String: TOMLNode]
    {
        var result: [String: TOMLNode] = [:]
        for key in table.keys.sorted() {
            guard let node = table[key] else { continue }
            let (cleanKey, keyScalar) = clean(key)
            if let keyScalar {
                findings.append(
                    ControlCharacter(
                        tables: tables, key: SafeText.clip(cleanKey),
                        message: "the key name contains the control character \(describe(keyScalar)); remove it"))
            }
            result[cleanKey] = sanitize(node: node, key: cleanKey, tables: tables, item: nil, findings: &findings)
        }
        return result
    }

    private static func sanitize(
        node: TOMLNode, key: String, tables: [String], item: String?,
        findings: inout [ControlCharacter]
    ) -> TOMLNode {
        switch node {
        case .string(let text):
            let (cleaned, scalar) = clean(text)
            if let scalar {
                let at = item.map { "item \($0): " } ?? ""
                findings.append(
                    ControlCharacter(
                        tables: tables, key: SafeText.clip(key),
                        message: at
                            + "\"\(SafeText.clip(cleaned))\" contains the control character \(describe(scalar)) "
                            + "(strings must not hold NUL, line breaks or other control characters)"))
            }
            return .string(cleaned)
        case .array(let items):
            var out: [TOMLNode] = []
            for (index, element) in items.enumerated() {
                let position = item.map { "\($0).\(index + 1)" } ?? "\(index + 1)"
                if case .table(let values) = element {
                    out.append(
                        .table(
                            sanitize(
                                table: values, tables: tables + ["\(key)[\(index + 1)]"],
                                findings: &findings)))
                } else {
                    out.append(sanitize(node: element, key: key, tables: tables, item: position, findings: &findings))
                }
            }
            return .array(out)
        case .table(let values):
            return .table(sanitize(table: values, tables: tables + [key], findings: &findings))
        case .int, .double, .bool, .date:
            return node
        }
    }

    /// `a string`, `an integer`, … for "expected … found …" messages.
    var typeName: String {
        switch self {
        case .string: "a string"
        case .int: "an integer"
        case .double: "a number"
        case .bool: "a boolean"
        case .date: "a date"
        case .array: "an array"
        case .table: "a table"
        }
    }

    /// The value as shown after "found": `"abc"`, `42`, `true`, `an array of 3 items`.
    var shown: String {
        switch self {
        case .string(let s): "\"" + SafeText.clip(s) + "\""
        case .int(let i): String(i)
        case .double(let d): String(d)
        case .bool(let b): String(b)
        case .date(let d): d
        case .array(let items): "an array of \(items.count) item" + (items.count == 1 ? "" : "s")
        case .table: "a table"
        }
    }
}

/// A TOML syntax error, located by line and column when the parser knows them.
struct TOMLSyntaxError: Error, Sendable {
    var message: String
    var line: Int?
    var column: Int?

    var description: String {
        if let line, let column { return "TOML syntax error at line \(line), column \(column): \(message)" }
        return "TOML syntax error: \(message)"
    }
}

/// Shortening and escaping of user text inside messages.
enum SafeText {
    static func clip(_ text: String, limit: Int = 80) -> String {
        var out = ""
        for scalar in text.unicodeScalars.prefix(limit) {
            if scalar.value < 0x20 || scalar.value == 0x7F {
                out += "\\u{\(String(scalar.value, radix: 16))}"
            } else if scalar == "\"" {
                out += "\\\""
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return text.unicodeScalars.count > limit ? out + "…" : out
    }
}

/// Makes escaped NULs visible to the checks after parsing.
///
/// toml++ decodes `"a\u0000b"` into a string with a NUL, and TOMLKit hands strings and keys to Swift as C
/// strings, which end at the NUL: `"www.example.net\u0000.evil.com"` would arrive as `www.example.net`.
/// Before parsing, every `\u0000`, `\U00000000` and `\x00` escape inside a basic string (`"…"`, `"""…"""`)
/// is rewritten to `\uFFFF`, which survives the C string; `TOMLNode.sanitized` then rejects U+FFFF.
/// Literal strings (`'…'`) and comments take no escapes and are left alone.
enum NULEscapes {
    static let marker: Unicode.Scalar = "\u{FFFF}"

    static func marked(_ text: String) -> String {
        guard mayHoldNULEscape(text) else { return text }
        let input = Array(text.unicodeScalars)
        var out = String.UnicodeScalarView()
        out.reserveCapacity(input.count)
        enum State { case normal, comment, basic, multilineBasic, literal, multilineLiteral }
        var state = State.normal
        var index = 0
        func at(_ offset: Int) -> Unicode.Scalar? { index + offset < input.count ? input[index + offset] : nil }
        func startsTriple(_ quote: Unicode.Scalar) -> Bool { at(0) == quote && at(1) == quote && at(2) == quote }
        func copy(_ count: Int) {
            for _ in 0..<count where index < input.count {
                out.append(input[index])
                index += 1
            }
        }
        func isZeros(from offset: Int, count: Int) -> Bool {
            (0..<count).allSatisfy { at(offset + $0) == "0" }
        }
        while index < input.count {
            let scalar = input[index]
            switch state {
            case .normal:
                if scalar == "#" {
                    state = .comment
                    copy(1)
                } else if startsTriple("\"") {
                    state = .multilineBasic
                    copy(3)
                } else if scalar == "\"" {
                    state = .basic
                    copy(1)
                } else if startsTriple("'") {
                    state = .multilineLiteral
                    copy(3)
                } else if scalar == "'" {
                    state = .literal
                    copy(1)
                } else {
                    copy(1)
                }
            case .comment:
                if scalar == "\n" { state = .normal }
                copy(1)
            case .literal:
                if scalar == "'" || scalar == "\n" { state = .normal }
                copy(1)
            case .multilineLiteral:
                if startsTriple("'") {
                    copy(3)
                    while at(0) == "'" { copy(1) }
                    state = .normal
                } else {
                    copy(1)
                }
            case .basic, .multilineBasic:
                if scalar == "\\" {
                    let length: Int? =
                        switch at(1) {
                        case "u": isZeros(from: 2, count: 4) ? 6 : nil
                        case "U": isZeros(from: 2, count: 8) ? 10 : nil
                        case "x": isZeros(from: 2, count: 2) ? 4 : nil
                        default: nil
                        }
                    if let length {
                        out.append(contentsOf: "\\uFFFF".unicodeScalars)
                        index += length
                    } else {
                        copy(2)
                    }
                } else if state == .basic && (scalar == "\"" || scalar == "\n") {
                    state = .normal
                    copy(1)
                } else if state == .multilineBasic && startsTriple("\"") {
                    copy(3)
                    while at(0) == "\"" { copy(1) }
                    state = .normal
                } else {
                    copy(1)
                }
            }
        }
        return String(out)
    }

    /// Whether `text` has a backslash followed by `u0000`, `U00000000` or `x00` anywhere (in a string or
    /// not): only such text can need `marked`'s rewrite. One pass over the bytes, for the common case of a
    /// file without any.
    static func mayHoldNULEscape(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { bytes in
            var index = 0
            while index + 3 < bytes.count {
                defer { index += 1 }
                guard bytes[index] == UInt8(ascii: "\\") else { continue }
                let zeros: Int
                switch bytes[index + 1] {
                case UInt8(ascii: "u"): zeros = 4
                case UInt8(ascii: "U"): zeros = 8
                case UInt8(ascii: "x"): zeros = 2
                default: continue
                }
                let start = index + 2
                if start + zeros <= bytes.count,
                    (start..<start + zeros).allSatisfy({ bytes[$0] == UInt8(ascii: "0") })
                {
                    return true
                }
            }
            return false
        }
    }
}
