/// Validation of names that become path components (groups, services, CA names, ACME tokens…).
///
/// A safe name is non-empty, at most 255 bytes, is not `.` or `..`, contains no `/`, no NUL, no
/// control characters and no whitespace, and does not start with `-` (so it can never be read as an
/// option by a program it is passed to).
public enum SafeName {
    /// Nil when `name` is safe; otherwise a sentence saying why not.
    public static func problem(_ name: String) -> String? {
        if name.isEmpty { return "is empty" }
        if name == "." || name == ".." { return "\"\(name)\" is not a usable file name" }
        if name.utf8.count > 255 { return "is longer than 255 bytes" }
        if name.hasPrefix("-") { return "\"\(printable(name))\" starts with \"-\"" }
        for scalar in name.unicodeScalars {
            if scalar == "/" { return "\"\(printable(name))\" contains \"/\"" }
            if scalar.value < 0x20 || scalar.value == 0x7F || (0x80...0x9F).contains(scalar.value) {
                return "\"\(printable(name))\" contains a control character"
            }
            if scalar.properties.isWhitespace { return "\"\(printable(name))\" contains white space" }
        }
        return nil
    }

    public static func isSafe(_ name: String) -> Bool { problem(name) == nil }

    /// Whether `text` is 1–256 characters of the base64url alphabet (`A–Z a–z 0–9 - _`, no padding): what
    /// an ACME token must be before it becomes a file name.
    public static func isBase64URL(_ text: String) -> Bool {
        (1...256).contains(text.utf8.count)
            && text.utf8.allSatisfy { byte in
                (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39)
                    || byte == 0x2D || byte == 0x5F
            }
    }

    /// The name with control characters escaped, for messages.
    public static func printable(_ name: String) -> String {
        var out = ""
        for scalar in name.unicodeScalars {
            if scalar.value < 0x20 || scalar.value == 0x7F || (0x80...0x9F).contains(scalar.value) {
                out += "\\u{\(String(scalar.value, radix: 16))}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
