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
            throw TOMLSyntaxError(message: "the file contains a NUL byte (is it a binary file?)", line: nil, column: nil)
        }
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw TOMLSyntaxError(message: error.description, line: error.source.begin.line,
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
