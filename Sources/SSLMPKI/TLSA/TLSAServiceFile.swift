/// The per-service `db/<ts>/tlsa.rr` file (spec §3.10): a three-line comment header naming apex, service
/// and db timestamp, then the records, final newline. Rendering only; write it with `AtomicFile`.
public enum TLSAServiceFile {
    public static func render(apex: String, service: String, timestamp: String, records: [TLSARecord]) -> String {
        var lines = [";;", ";; tlsa \(apex) \(service) \(timestamp)", ";;"]
        lines += records.map(\.zoneText)
        return lines.joined(separator: "\n") + "\n"
    }

    /// The records of a `tlsa.rr` text as groups of lines (a record with a split rdata spans several
    /// lines), without `;;` comment lines and blank lines.
    public static func recordLines(of text: String) -> [[String]] {
        var groups: [[String]] = []
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = String(rawLine)
            if line.trimmingCharacters(in: .whitespaces).isEmpty || line.hasPrefix(";;") { continue }
            if let first = line.first, first == " " || first == "\t", !groups.isEmpty {
                groups[groups.count - 1].append(line)
            } else {
                groups.append([line])
            }
        }
        return groups
    }
}
