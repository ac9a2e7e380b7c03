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
