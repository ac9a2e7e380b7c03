/// The per-apex `certs/<apex>/tlsa.<apex>` file (spec §3.10): the rows of every service's `curr` and
/// `next` `tlsa.rr`, under comment headers, with a row identical to an earlier one commented out (`;; `).
///
/// Returns nil when there is no row at all: the caller then leaves any previous file untouched (ssl-mgr's
/// behaviour; the planner reports such stale files). Rendering only; no I/O.
public enum TLSADomainFile {
    /// One contributing `tlsa.rr`.
    public struct Section: Sendable, Hashable {
        public var service: String
        /// `curr` or `next`.
        public var slot: String
        /// The text of that `tlsa.rr`.
        public var tlsaText: String

        public init(service: String, slot: String, tlsaText: String) {
            self.service = service
            self.slot = slot
            self.tlsaText = tlsaText
        }
    }

    /// Sections are written in the order given (callers sort services, curr before next).
    /// `rolling` selects the header `phase = roll next to curr` instead of `phase = normal`.
    public static func render(apex: String, rolling: Bool, sections: [Section]) -> String? {
        var lines = [";;", ";; TLSA \(apex) : phase = \(rolling ? "roll next to curr" : "normal")", ";;"]
        var seen = Set<[String]>()
        var rowCount = 0
        for section in sections {
            lines += [";;", ";; \(section.service) \(section.slot)", ";;"]
            for record in TLSAServiceFile.recordLines(of: section.tlsaText) {
                rowCount += 1
                if seen.insert(record).inserted {
                    lines += record
                } else {
                    lines += record.map { ";; " + $0 }
                }
            }
        }
        guard rowCount > 0 else { return nil }
        lines.append("")
        return lines.joined(separator: "\n") + "\n"
    }
}
