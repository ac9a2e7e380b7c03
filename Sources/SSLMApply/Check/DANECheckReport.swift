import Foundation
import SSLMCore

/// The result of `sslm check`: one entry per (service, DANE entry, TLSA owner host), plus service findings
/// (no curr, renewal due without next). A value: rendered as text or JSON by the caller's view.
///
/// Guarantees: `status` is `.failed` when any endpoint or finding failed, `.warning` when only warnings,
/// else `.ok`; endpoints are in service order, then `dane_tls` order, then owner order (apex first).
/// The JSON form is versioned (`version`); minor changes only add fields.
public struct DANECheckReport: Sendable, Codable, Hashable {
    /// How an endpoint or finding came out.
    public enum Status: String, Sendable, Codable, Hashable, Comparable {
        case ok
        case warning
        case failed

        private var rank: Int { self == .ok ? 0 : self == .warning ? 1 : 2 }
        public static func < (lhs: Status, rhs: Status) -> Bool { lhs.rank < rhs.rank }
    }

    /// The certificate a server presented.
    public struct ServedCertificate: Sendable, Codable, Hashable {
        public var subject: String
        public var serial: String
        public var notAfter: String
        /// SHA-256 of the leaf's DER, lowercase hex.
        public var sha256: String
        /// Certificates in the served chain, leaf included.
        public var chainLength: Int
        /// `curr`, `next` (sslm's files) or `other` (neither: an old or foreign certificate).
        public var slot: String
    }

    /// One TLSA owner checked against one server.
    public struct Endpoint: Sendable, Codable, Hashable {
        public var service: String
        /// The `dane_tls` entry, e.g. `25 tcp 3 1 1`.
        public var dane: String
        public var host: String
        public var port: Int
        /// `_25._tcp.mail.example.com`.
        public var owner: String
        /// Where sslm connected (`127.0.0.1:2525`); nil when it could not tell.
        public var connect: String?
        /// The STARTTLS protocol used, nil for direct TLS.
        public var startTLS: String?
        /// The DNS server asked for the TLSA records.
        public var dnsServer: String
        /// True when a trusted validating resolver set the AD flag on the TLSA answer.
        public var validated: Bool
        /// The published records' rdata (`3 1 1 <hex>`), sorted.
        public var published: [String]
        /// The published records that match the served chain.
        public var matching: [String]
        public var served: ServedCertificate?
        public var status: Status
        /// Why the endpoint failed, one sentence each.
        public var problems: [String]
        public var warnings: [String]
    }

    /// A service-level finding (not tied to one server).
    public struct Finding: Sendable, Codable, Hashable {
        public var service: String
        /// A stable code: `no_curr`, `renewal_due_without_next`, `expired`, `dns_unavailable`, `tlsa_owners`.
        public var code: String
        public var status: Status
        public var message: String
    }

    public var version = 1
    public var now: String
    /// `resolver 127.0.0.1:5055` or `[[dns_primary]] (not validated)`.
    public var dnsSource: String
    /// True when a validating resolver was given.
    public var validating: Bool
    public var endpoints: [Endpoint]
    public var findings: [Finding]
    public var status: Status

    public init(now: Date, dnsSource: String, validating: Bool, endpoints: [Endpoint], findings: [Finding]) {
        self.now = Timestamps.rfc3339(now)
        self.dnsSource = dnsSource
        self.validating = validating
        self.endpoints = endpoints
        self.findings = findings
        status = (endpoints.map(\.status) + findings.map(\.status)).max() ?? .ok
    }

    /// 0 when nothing failed (warnings included), 1 otherwise.
    public var exitCode: Int32 { status == .failed ? 1 : 0 }

    /// Sorted-key, pretty-printed JSON.
    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    /// The human form: one line per endpoint, its problems and warnings indented below, then findings
    /// and a summary line.
    public func text(verbose: Bool = false) -> String {
        var lines = ["DNS: \(dnsSource)"]
        var lastService: String?
        for endpoint in endpoints {
            if endpoint.service != lastService {
                lines.append(endpoint.service)
                lastService = endpoint.service
            }
            let label = Self.label(endpoint.status)
            var via = [String]()
            if let startTLS = endpoint.startTLS { via.append("STARTTLS \(startTLS)") }
            if let connect = endpoint.connect { via.append(connect) }
            let where_ = "\(endpoint.host):\(endpoint.port)" + (via.isEmpty ? "" : " (\(via.joined(separator: ", ")))")
            var summary: [String] = []
            if !endpoint.matching.isEmpty {
                summary.append("matches TLSA \(endpoint.matching.map(Self.short).joined(separator: ", "))")
            }
            if let served = endpoint.served {
                summary.append(served.slot == "other" ? "serves neither curr nor next" : "serves \(served.slot)")
            } else {
                summary.append("no served chain")
            }
            summary.append(endpoint.validated ? "DNSSEC-validated" : "not validated")
            lines.append("  \(label) \(where_): \(summary.joined(separator: "; "))")
            for problem in endpoint.problems { lines.append("         \(problem)") }
            for warning in endpoint.warnings { lines.append("         warning: \(warning)") }
            if verbose {
                for record in endpoint.published {
                    lines.append("         published: \(endpoint.owner) TLSA \(record)")
                }
                if let served = endpoint.served {
                    lines.append(
                        "         served: \(served.subject), serial \(served.serial), expires \(served.notAfter), "
                            + "sha256 \(served.sha256), \(served.chainLength) in chain")
                }
            }
        }
        for finding in findings {
            lines.append("\(Self.label(finding.status)) \(finding.service): \(finding.message)")
        }
        let failedEndpoints = endpoints.filter { $0.status == .failed }.count
        let failedFindings = findings.filter { $0.status == .failed }.count
        switch status {
        case .ok: lines.append("check: OK (\(endpoints.count) endpoint\(endpoints.count == 1 ? "" : "s"))")
        case .warning: lines.append("check: OK with warnings (\(endpoints.count) endpoints)")
        case .failed:
            var parts: [String] = []
            if failedEndpoints > 0 { parts.append("\(failedEndpoints) of \(endpoints.count) endpoints") }
            if failedFindings > 0 { parts.append("\(failedFindings) service finding\(failedFindings == 1 ? "" : "s")") }
            lines.append("check: FAILED (\(parts.joined(separator: ", ")))")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func label(_ status: Status) -> String {
        switch status {
        case .ok: return "OK  "
        case .warning: return "WARN"
        case .failed: return "FAIL"
        }
    }

    /// `3 1 1 abcdef012345…` (the first 12 hex digits).
    static func short(_ record: String) -> String {
        let fields = record.split(separator: " ")
        guard fields.count == 4 else { return record }
        let data = fields[3]
        return "\(fields[0]) \(fields[1]) \(fields[2]) " + (data.count > 12 ? data.prefix(12) + "…" : data)
    }
}
