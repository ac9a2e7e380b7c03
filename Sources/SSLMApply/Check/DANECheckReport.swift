import Foundation
import SSLMCore

/// The result of `sslm check`: one entry per (service, DANE entry, TLSA owner host), one per TLS endpoint
/// of a service (`check_endpoints`, or a web service's SANs on 443), plus service findings (no curr,
/// renewal due without next). A value: rendered as text or JSON by the caller's view.
///
/// Guarantees: `status` is `.failed` when any endpoint or finding failed, `.warning` when only warnings,
/// else `.ok`; `endpoints` are in service order, then `dane_tls` order, then owner order (apex first);
/// `tlsEndpoints` in service order, then endpoint order — whatever order the concurrent probes finished in.
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

    /// One TLS endpoint of a service (`check_endpoints`, or a web service's SANs on 443): what it serves,
    /// whether that verifies, and how long it has left.
    public struct TLSEndpoint: Sendable, Codable, Hashable {
        public var service: String
        public var host: String
        public var port: Int
        /// Where the endpoint comes from: `check_endpoints`, or `web service (…): SANs on 443`.
        public var source: String
        /// Where sslm connected (`127.0.0.1:8443`); nil when it could not tell.
        public var connect: String?
        /// The STARTTLS protocol used, nil for direct TLS.
        public var startTLS: String?
        public var served: ServedCertificate?
        /// True when the served chain validates (RFC 5280 and the host name) to the service's trust anchor;
        /// nil when nothing was served.
        public var verified: Bool?
        /// The trust anchor: the root of the service's `chain.pem`, or `system trust store`.
        public var anchor: String?
        /// Days from now until the served leaf expires (negative: expired), to 0.1; nil when nothing was served.
        public var daysLeft: Double?
        public var status: Status
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
    /// The DANE endpoints.
    public var endpoints: [Endpoint]
    /// The TLS endpoints (added in 1.1).
    public var tlsEndpoints: [TLSEndpoint]
    /// The services checked, in order (added in 1.1).
    public var services: [String]
    public var findings: [Finding]
    public var status: Status

    public init(
        now: Date, dnsSource: String, validating: Bool, endpoints: [Endpoint], tlsEndpoints: [TLSEndpoint] = [],
        services: [String]? = nil, findings: [Finding]
    ) {
        self.now = Timestamps.rfc3339(now)
        self.dnsSource = dnsSource
        self.validating = validating
        self.endpoints = endpoints
        self.tlsEndpoints = tlsEndpoints
        var order: [String] = []
        for service in services ?? (endpoints.map(\.service) + tlsEndpoints.map(\.service) + findings.map(\.service))
        where !order.contains(service) {
            order.append(service)
        }
        self.services = order
        self.findings = findings
        status = (endpoints.map(\.status) + tlsEndpoints.map(\.status) + findings.map(\.status)).max() ?? .ok
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
        for service in services {
            let dane = endpoints.filter { $0.service == service }
            let tls = tlsEndpoints.filter { $0.service == service }
            guard !dane.isEmpty || !tls.isEmpty else { continue }
            lines.append(service)
            for endpoint in dane { lines += Self.lines(endpoint, verbose: verbose) }
            for endpoint in tls { lines += Self.lines(endpoint, verbose: verbose) }
        }
        for finding in findings {
            lines.append("\(Self.label(finding.status)) \(finding.service): \(finding.message)")
        }
        let total = endpoints.count + tlsEndpoints.count
        let failedEndpoints =
            endpoints.filter { $0.status == .failed }.count + tlsEndpoints.filter { $0.status == .failed }.count
        let failedFindings = findings.filter { $0.status == .failed }.count
        switch status {
        case .ok: lines.append("check: OK (\(total) endpoint\(total == 1 ? "" : "s"))")
        case .warning: lines.append("check: OK with warnings (\(total) endpoints)")
        case .failed:
            var parts: [String] = []
            if failedEndpoints > 0 { parts.append("\(failedEndpoints) of \(total) endpoints") }
            if failedFindings > 0 { parts.append("\(failedFindings) service finding\(failedFindings == 1 ? "" : "s")") }
            lines.append("check: FAILED (\(parts.joined(separator: ", ")))")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// `host:port (STARTTLS p, addr:port)`.
    static func place(host: String, port: Int, startTLS: String?, connect: String?) -> String {
        var via = [String]()
        if let startTLS { via.append("STARTTLS \(startTLS)") }
        if let connect { via.append(connect) }
        return "\(host):\(port)" + (via.isEmpty ? "" : " (\(via.joined(separator: ", ")))")
    }

    static func lines(_ endpoint: Endpoint, verbose: Bool) -> [String] {
        var lines: [String] = []
        let label = Self.label(endpoint.status)
        let where_ = place(
            host: endpoint.host, port: endpoint.port, startTLS: endpoint.startTLS, connect: endpoint.connect)
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
            if let served = endpoint.served { lines.append(servedLine(served)) }
        }
        return lines
    }

    /// `  OK   www.example.com:443 (127.0.0.1:8443): TLS: serves curr; verifies; expires 2027-03-02 (89.9 d left)`.
    static func lines(_ endpoint: TLSEndpoint, verbose: Bool) -> [String] {
        var lines: [String] = []
        let where_ = place(
            host: endpoint.host, port: endpoint.port, startTLS: endpoint.startTLS, connect: endpoint.connect)
        var summary: [String] = []
        if let served = endpoint.served {
            summary.append(served.slot == "other" ? "serves neither curr nor next" : "serves \(served.slot)")
            summary.append(endpoint.verified == true ? "verifies" : "does not verify")
            if let daysLeft = endpoint.daysLeft {
                let day = served.notAfter.prefix(10)
                summary.append(
                    daysLeft <= 0
                        ? "expired \(day)" : "expires \(day) (\(String(format: "%.1f", daysLeft)) d left)")
            }
        } else {
            summary.append("no served chain")
        }
        lines.append("  \(Self.label(endpoint.status)) \(where_): TLS: \(summary.joined(separator: "; "))")
        for problem in endpoint.problems { lines.append("         \(problem)") }
        for warning in endpoint.warnings { lines.append("         warning: \(warning)") }
        if verbose {
            lines.append("         endpoint from: \(endpoint.source)")
            if let anchor = endpoint.anchor { lines.append("         trust anchor: \(anchor)") }
            if let served = endpoint.served { lines.append(servedLine(served)) }
        }
        return lines
    }

    static func servedLine(_ served: ServedCertificate) -> String {
        "         served: \(served.subject), serial \(served.serial), expires \(served.notAfter), "
            + "sha256 \(served.sha256), \(served.chainLength) in chain"
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
