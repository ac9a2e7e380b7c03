/// The dns-01 include file `acme-challenge.<apex>` in ssl-mgr's format (reference §3.8), meant to be
/// `$INCLUDE`d in the apex zone:
///
/// ```
/// ;; acme-challenge for : example.com
/// ;; acme-challenge : example.com
/// _acme-challenge.www.example.com. 60 IN TXT "<value>"
/// ```
///
/// A value of 72 or more characters is written as `(`, then 20-space-indented quoted 72-character chunks on
/// their own lines, then ` )` — one TXT record of several strings, which `DNSQuery.txt` joins again.
/// Rows are sorted (owner, then value) so equal inputs give equal bytes; duplicates are written once. The
/// file without rows is the "cleared" file written after validation. Values are not escaped: ACME values are
/// base64url; a value containing `"` or `\` or a control character is not representable and is skipped by
/// `render` — check with `isPublishable` first.
public enum ACMEChallengeZoneFile {
    /// The TTL of every row (seconds).
    public static let ttl = 60
    /// Values at least this long are chunked.
    public static let chunkLength = 72

    /// The file text for `apex` (lowercased, without a trailing dot, in the comment lines).
    public static func render(apex: String, records: [ACMEChallengeRecord]) -> String {
        var name = apex.lowercased()
        while name.hasSuffix(".") { name.removeLast() }
        var text = ";; acme-challenge for : \(name)\n;; acme-challenge : \(name)\n"
        let rows = Set(records.filter { isPublishable($0.value) }.map { Row(owner: $0.ownerName, value: $0.value) })
        for row in rows.sorted(by: { ($0.owner, $0.value) < ($1.owner, $1.value) }) {
            text += "\(row.owner). \(ttl) IN TXT \(rdata(row.value))\n"
        }
        return text
    }

    /// Whether `value` can be written as a quoted TXT string unescaped (printable ASCII without `"` and `\`).
    public static func isPublishable(_ value: String) -> Bool {
        !value.isEmpty
            && value.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value < 0x7F && $0 != "\"" && $0 != "\\" }
    }

    /// The number of TXT rows in such a file: lines whose fields, outside comments, include `IN TXT` or a
    /// bare `TXT` type. 0 for the cleared file. Any whitespace between fields is accepted.
    public static func recordCount(in text: String) -> Int {
        var count = 0
        for line in text.split(whereSeparator: \.isNewline) {
            let content = line.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let fields = content.split(whereSeparator: { $0 == " " || $0 == "\t" }).map { $0.uppercased() }
            // a continuation line of a chunked value starts with whitespace and a quote: no owner, no type
            guard let first = line.first, first != " ", first != "\t", fields.count >= 2 else { continue }
            if fields.dropFirst().prefix(4).contains("TXT") { count += 1 }
        }
        return count
    }

    private struct Row: Hashable {
        var owner: String
        var value: String
    }

    private static func rdata(_ value: String) -> String {
        guard value.count >= chunkLength else { return "\"\(value)\"" }
        var text = "("
        var rest = Substring(value)
        let indent = String(repeating: " ", count: 20)
        while !rest.isEmpty {
            text += "\n\(indent)\"\(rest.prefix(chunkLength))\""
            rest = rest.dropFirst(chunkLength)
        }
        return text + " )"
    }
}
