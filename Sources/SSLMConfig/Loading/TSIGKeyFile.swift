import Foundation
import SSLMCore

/// Reads a TSIG key file in BIND syntax, as `tsig-keygen` writes it:
///
/// ```
/// key "sslm-example.com" {
///         algorithm hmac-sha256;
///         secret "base64…";
/// };
/// ```
///
/// Exactly one `key` statement; comments (`#`, `//`, `/* */`) are allowed. Problems are sentences that
/// name the file, the line and what was expected, and never quote the secret (nor any word that could be
/// it: a syntax error names the kind of token found, not its text).
public enum TSIGKeyFile {
    /// Why a key file cannot be used; `message` is safe to print (no secret).
    public struct Problem: Error, Sendable, Hashable, CustomStringConvertible {
        public let message: String
        public var description: String { message }
        init(_ message: String) { self.message = message }
    }

    /// Reads and parses `path` (absolute). At most 64 KiB; symlinks are followed.
    public static func load(_ path: String) -> Result<TSIGKey, Problem> {
        let bytes: [UInt8]
        do {
            bytes = try BoundedFile.read(path, limit: BoundedFile.Limit(bytes: 64 << 10, kind: "a TSIG key file"))
        } catch let error as SSLMError {
            return .failure(Problem(error.message))
        } catch {
            return .failure(Problem("\(path): cannot read the file: \(error)"))
        }
        guard let text = String(bytes: bytes, encoding: .utf8) else {
            return .failure(Problem("\(path): not UTF-8 text (expected a key file as tsig-keygen writes it)"))
        }
        return parse(text, file: path)
    }

    /// Parses the text of a key file; `file` only appears in messages and in the key.
    public static func parse(_ text: String, file: String) -> Result<TSIGKey, Problem> {
        let tokens: [Token]
        switch tokenize(text) {
        case .success(let found): tokens = found
        case .failure(let problem): return .failure(Problem("\(file): \(problem.message)"))
        }
        var keys: [TSIGKey] = []
        var index = 0
        func fail(_ message: String) -> Result<TSIGKey, Problem> { .failure(Problem("\(file): \(message)")) }
        func expect(_ kind: Token.Kind, _ what: String) -> Problem? {
            guard index < tokens.count else { return Problem("expected \(what), found the end of the file") }
            guard tokens[index].kind == kind else {
                return Problem("line \(tokens[index].line): expected \(what), found \(tokens[index].shown)")
            }
            index += 1
            return nil
        }
        while index < tokens.count {
            let statement = tokens[index]
            guard statement.kind == .word, statement.text.lowercased() == "key" else {
                return fail(
                    "line \(statement.line): expected a key statement (key \"name\" { algorithm …; secret \"…\"; };), "
                        + "found \(statement.shown)")
            }
            index += 1
            guard index < tokens.count, tokens[index].kind == .word || tokens[index].kind == .quoted else {
                return fail("line \(statement.line): expected the key's name after \"key\"")
            }
            let rawName = tokens[index].text
            index += 1
            if let problem = expect(.open, "\"{\" after the key name") { return fail(problem.message) }
            var algorithm: String?
            var secret: String?
            var clauseLine = statement.line
            while index < tokens.count, tokens[index].kind != .close {
                let clause = tokens[index]
                clauseLine = clause.line
                guard clause.kind == .word else {
                    return fail("line \(clause.line): expected \"algorithm\" or \"secret\", found \(clause.shown)")
                }
                index += 1
                guard index < tokens.count, tokens[index].kind == .word || tokens[index].kind == .quoted else {
                    return fail("line \(clause.line): expected a value after \"\(clause.text.lowercased())\"")
                }
                let value = tokens[index].text
                index += 1
                switch clause.text.lowercased() {
                case "algorithm": algorithm = value
                case "secret": secret = value
                default:
                    return fail(
                        "line \(clause.line): unknown clause \"\(SafeText.clip(clause.text))\" in the key "
                            + "(expected algorithm and secret)")
                }
                if let problem = expect(.semicolon, "\";\"") { return fail(problem.message) }
            }
            if let problem = expect(.close, "\"}\" closing the key") { return fail(problem.message) }
            if let problem = expect(.semicolon, "\";\" after \"}\"") { return fail(problem.message) }

            var name = rawName.lowercased()
            while name.hasSuffix(".") { name.removeLast() }
            if let problem = keyNameProblem(name) {
                return fail("line \(statement.line): key name \"\(SafeText.clip(rawName))\": \(problem)")
            }
            guard let algorithmText = algorithm else {
                return fail("key \"\(name)\" has no algorithm (expected e.g. algorithm hmac-sha256;)")
            }
            var algorithmName = algorithmText.lowercased()
            while algorithmName.hasSuffix(".") { algorithmName.removeLast() }
            guard let parsed = TSIGAlgorithm(rawValue: algorithmName) else {
                let supported = TSIGAlgorithm.allCases.map(\.rawValue).joined(separator: ", ")
                let note =
                    ["hmac-sha224", "hmac-sha384"].contains(algorithmName)
                    ? " (libldns 1.8, which sslm signs with, cannot compute it)" : ""
                return fail(
                    "key \"\(name)\": algorithm \"\(SafeText.clip(algorithmText))\" is not supported\(note); "
                        + "expected one of \(supported) (tsig-keygen -a hmac-sha256 NAME)")
            }
            guard let secretText = secret else {
                return fail("line \(clauseLine): key \"\(name)\" has no secret (expected secret \"base64…\";)")
            }
            let compact = secretText.filter { !$0.isWhitespace }
            guard let decoded = Data(base64Encoded: compact), !decoded.isEmpty else {
                return fail(
                    "key \"\(name)\": the secret is not valid base64 (expected the base64 text tsig-keygen "
                        + "writes; the value is not shown)")
            }
            keys.append(TSIGKey(name: name, algorithm: parsed, secret: TSIGSecret(base64: compact), file: file))
        }
        guard keys.count == 1, let key = keys.first else {
            return keys.isEmpty
                ? fail(
                    "no key statement (expected key \"name\" { algorithm hmac-sha256; secret \"…\"; }; as "
                        + "tsig-keygen writes it)")
                : fail("holds \(keys.count) keys (expected exactly one)")
        }
        return .success(key)
    }

    /// A problem with a TSIG key name (a domain name: labels of letters, digits, `-` and `_`), or nil.
    static func keyNameProblem(_ name: String) -> String? {
        guard !name.isEmpty else { return "empty (expected a domain name such as sslm-example.com)" }
        guard name.utf8.count <= 253 else { return "longer than 253 characters" }
        for label in name.split(separator: ".", omittingEmptySubsequences: false) {
            guard !label.isEmpty, label.utf8.count <= 63 else {
                return "has an empty label or one longer than 63 characters"
            }
            guard
                label.unicodeScalars.allSatisfy({
                    $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-" || $0 == "_")
                })
            else {
                return "expected letters, digits, \"-\" and \"_\" in dot-separated labels"
            }
        }
        return nil
    }

    // MARK: tokens

    struct Token {
        enum Kind { case word, quoted, open, close, semicolon }
        var kind: Kind
        var text: String
        var line: Int

        /// What a message may say about the token: punctuation as written, words and strings by kind only
        /// (either could be the secret).
        var shown: String {
            switch kind {
            case .open: "\"{\""
            case .close: "\"}\""
            case .semicolon: "\";\""
            case .word: "a word"
            case .quoted: "a quoted string"
            }
        }
    }

    static func tokenize(_ text: String) -> Result<[Token], Problem> {
        var tokens: [Token] = []
        let scalars = Array(text.unicodeScalars)
        var index = 0
        var line = 1
        func peek(_ offset: Int = 0) -> Unicode.Scalar? {
            index + offset < scalars.count ? scalars[index + offset] : nil
        }
        while let c = peek() {
            if c == "\n" {
                line += 1
                index += 1
            } else if c.properties.isWhitespace {
                index += 1
            } else if c == "#" || (c == "/" && peek(1) == "/") {
                while let d = peek(), d != "\n" { index += 1 }
            } else if c == "/" && peek(1) == "*" {
                let start = line
                index += 2
                while true {
                    guard let d = peek() else {
                        return .failure(Problem("line \(start): \"/*\" comment without \"*/\""))
                    }
                    if d == "*" && peek(1) == "/" {
                        index += 2
                        break
                    }
                    if d == "\n" { line += 1 }
                    index += 1
                }
            } else if c == "{" || c == "}" || c == ";" {
                tokens.append(
                    Token(kind: c == "{" ? .open : c == "}" ? .close : .semicolon, text: String(c), line: line))
                index += 1
            } else if c == "\"" {
                let start = line
                index += 1
                var value = String.UnicodeScalarView()
                while true {
                    guard let d = peek() else {
                        return .failure(Problem("line \(start): a quoted string is not closed"))
                    }
                    index += 1
                    if d == "\"" { break }
                    if d == "\\", let escaped = peek() {
                        index += 1
                        value.append(escaped)
                        continue
                    }
                    if d == "\n" { line += 1 }
                    value.append(d)
                }
                tokens.append(Token(kind: .quoted, text: String(value), line: start))
            } else {
                var value = String.UnicodeScalarView()
                while let d = peek(), !d.properties.isWhitespace, !"{};\"".unicodeScalars.contains(d) {
                    value.append(d)
                    index += 1
                }
                tokens.append(Token(kind: .word, text: String(value), line: line))
            }
        }
        return .success(tokens)
    }
}
