import Foundation
import Testing

/// Keeps the planner readable: no `func` or `init` in Sources/SSLMPlan spans more than 60 lines, from its
/// keyword to its closing brace (found by brace matching, outside comments and string literals).
@Suite("Sources/SSLMPlan: function length")
struct FunctionLengthTests {
    static let limit = 60
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    @Test func noFunctionIsLongerThanTheLimit() throws {
        let directory = Self.packageRoot.appendingPathComponent("Sources/SSLMPlan")
        let files = try FileManager.default.subpathsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(".swift") }.sorted()
        #expect(files.count > 10, "found \(files) in \(directory.path)")
        var tooLong: [String] = []
        for file in files {
            let text = try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
            for span in FunctionScanner.spans(in: text)
            where span.lines > Self.limit {
                tooLong.append("\(file):\(span.line) \(span.name) (\(span.lines) lines)")
            }
        }
        #expect(tooLong.isEmpty, "longer than \(Self.limit) lines: \(tooLong.joined(separator: ", "))")
    }

    @Test func scannerMeasuresBodiesOutsideStringsAndComments() {
        let source = """
            struct S {
                // func commented() {
                init(x: Int = { 1 }()) {
                    let text = "} \\(x) { \\("}") func inString() {"
                    /* } */
                    _ = text
                }
                func outer() -> [String: Int] {
                    func inner() {
                    }
                    _ = #\"""
                        } raw {
                        \"""#
                    return [:]
                }
                func requirementLike()
                var y: Int { 0 }
            }
            """
        let spans = FunctionScanner.spans(in: source)
        #expect(spans.map(\.name) == ["init", "func outer", "func inner"])
        #expect(spans.map(\.lines) == [5, 8, 2])
    }
}

/// A `func` or `init` with a body: its name, first line and length in lines.
struct FunctionSpan: Equatable {
    var name: String
    var line: Int
    var lines: Int
}

/// Finds function bodies by brace matching over a small Swift lexer that skips comments and string
/// literals (with interpolations, multi-line and raw strings). A test tool, not a parser.
enum FunctionScanner {
    /// What the scanner needs of the source: declarations, braces and the nesting of `(` and `[`.
    enum Token {
        case declaration(String, line: Int)
        case open(line: Int), close(line: Int)
        case nest(Int)
        /// Another declaration keyword (`var`, `case`, `struct`, …): a `func` before it has no body.
        case boundary
    }

    static func spans(in text: String) -> [FunctionSpan] {
        var lexer = Lexer(Array(text.utf8))
        let tokens = lexer.tokens()
        var spans: [FunctionSpan] = []
        for (index, token) in tokens.enumerated() {
            guard case .declaration(let name, let line) = token, let body = bodyStart(tokens, after: index)
            else { continue }
            var depth = 0
            for token in tokens[body...] {
                if case .open = token { depth += 1 }
                if case .close(let end) = token {
                    depth -= 1
                    if depth == 0 {
                        spans.append(FunctionSpan(name: name, line: line, lines: end - line + 1))
                        break
                    }
                }
            }
        }
        return spans
    }

    /// The index of the body's `{`: the first brace outside parentheses and brackets; nil for a
    /// declaration without a body.
    static func bodyStart(_ tokens: [Token], after index: Int) -> Int? {
        var nesting = 0
        for position in tokens.indices.dropFirst(index + 1) {
            switch tokens[position] {
            case .nest(let delta): nesting += delta
            case .open where nesting == 0: return position
            case .close where nesting == 0, .declaration where nesting == 0, .boundary where nesting == 0: return nil
            default: continue
            }
        }
        return nil
    }

    /// Turns UTF-8 source into `Token`s, counting lines.
    struct Lexer {
        let bytes: [UInt8]
        var position = 0
        var line = 1
        var result: [Token] = []

        static let boundaries: Set<String> = [
            "var", "let", "case", "struct", "enum", "class", "extension", "protocol", "typealias", "subscript",
            "import", "actor",
        ]

        init(_ bytes: [UInt8]) { self.bytes = bytes }

        func peek(_ offset: Int = 0) -> UInt8? {
            position + offset < bytes.count ? bytes[position + offset] : nil
        }

        mutating func advance() {
            if bytes[position] == UInt8(ascii: "\n") { line += 1 }
            position += 1
        }

        mutating func tokens() -> [Token] {
            while let byte = peek() {
                switch byte {
                case UInt8(ascii: "/") where peek(1) == UInt8(ascii: "/"):
                    while let next = peek(), next != UInt8(ascii: "\n") { advance() }
                case UInt8(ascii: "/") where peek(1) == UInt8(ascii: "*"):
                    skipBlockComment()
                case UInt8(ascii: "\""), UInt8(ascii: "#"):
                    if !skipString() { advance() }
                case UInt8(ascii: "("), UInt8(ascii: "["):
                    result.append(.nest(1))
                    advance()
                case UInt8(ascii: ")"), UInt8(ascii: "]"):
                    result.append(.nest(-1))
                    advance()
                case UInt8(ascii: "{"):
                    result.append(.open(line: line))
                    advance()
                case UInt8(ascii: "}"):
                    result.append(.close(line: line))
                    advance()
                default:
                    if isIdentifier(byte) { word() } else { advance() }
                }
            }
            return result
        }

        func isIdentifier(_ byte: UInt8) -> Bool {
            (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
                || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "_")
        }

        mutating func readWord() -> String {
            let start = position
            while let byte = peek(), isIdentifier(byte) { advance() }
            return String(decoding: bytes[start..<position], as: UTF8.self)
        }

        mutating func word() {
            let afterDot = position > 0 && bytes[position - 1] == UInt8(ascii: ".")
            let line = self.line
            let text = readWord()
            if !afterDot, Self.boundaries.contains(text) { return result.append(.boundary) }
            guard !afterDot, text == "func" || text == "init" else { return }
            guard text == "func" else { return result.append(.declaration("init", line: line)) }
            while let byte = peek(), byte == UInt8(ascii: " ") { advance() }
            result.append(.declaration("func " + readWord(), line: line))
        }

        mutating func skipBlockComment() {
            advance()
            advance()
            while peek() != nil, !(peek() == UInt8(ascii: "*") && peek(1) == UInt8(ascii: "/")) { advance() }
            if peek() != nil {
                advance()
                advance()
            }
        }

        /// Skips a string literal at the position (`"…"`, `"""…"""`, raw `#"…"#`); false when there is none.
        mutating func skipString() -> Bool {
            var pounds = 0
            while peek(pounds) == UInt8(ascii: "#") { pounds += 1 }
            guard peek(pounds) == UInt8(ascii: "\"") else { return false }
            let multiLine = peek(pounds + 1) == UInt8(ascii: "\"") && peek(pounds + 2) == UInt8(ascii: "\"")
            let quotes = multiLine ? 3 : 1
            for _ in 0..<(pounds + quotes) { advance() }
            while peek() != nil {
                if isDelimiter(quotes: quotes, pounds: pounds) {
                    for _ in 0..<(quotes + pounds) { advance() }
                    return true
                }
                if peek() == UInt8(ascii: "\\") && (0..<pounds).allSatisfy({ peek(1 + $0) == UInt8(ascii: "#") }) {
                    for _ in 0...pounds { advance() }
                    if peek() == UInt8(ascii: "(") { skipInterpolation() } else if peek() != nil { advance() }
                    continue
                }
                advance()
            }
            return true
        }

        func isDelimiter(quotes: Int, pounds: Int) -> Bool {
            (0..<quotes).allSatisfy { peek($0) == UInt8(ascii: "\"") }
                && (0..<pounds).allSatisfy { peek(quotes + $0) == UInt8(ascii: "#") }
        }

        /// Skips `(…)` of an interpolation, with the strings inside it.
        mutating func skipInterpolation() {
            var depth = 0
            while let byte = peek() {
                if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "#"), skipString() { continue }
                advance()
                if byte == UInt8(ascii: "(") { depth += 1 }
                if byte == UInt8(ascii: ")") {
                    depth -= 1
                    if depth == 0 { return }
                }
            }
        }
    }
}
