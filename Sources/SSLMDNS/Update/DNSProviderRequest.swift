import Foundation

/// The JSON document an exec DNS provider (`[[dns_primary]] update = 'exec'`) reads on stdin: version 1 of
/// the contract in Docs/dns-providers.md. One document per zone per operation:
///
/// ```json
/// {"version": 1, "zone": "example.com.", "operation": "present",
///  "records": [{"owner": "_acme-challenge.www.example.com.", "type": "TXT", "ttl": 60, "value": "…"}]}
/// ```
///
/// Names are absolute (trailing dot) and lowercase; a TXT value is the text without quotes; a TLSA value is
/// its rdata (`3 1 1 <hex>`). Keys are sorted, so the same change gives the same bytes. The contract is
/// versioned: a field is never renamed or given another meaning within version 1.
public struct DNSProviderRequest: Sendable, Hashable {
    /// What the provider is asked to do with `records`.
    public enum Operation: String, Sendable, Hashable, CaseIterable {
        /// Add dns-01 challenge TXT records.
        case present
        /// Delete exactly these TXT records (by value); other records at the owner stay.
        case cleanup
        /// Add TLSA records.
        case tlsaPublish = "tlsa-publish"
        /// Delete exactly these TLSA records (by value); other records at the owner stay.
        case tlsaWithdraw = "tlsa-withdraw"
    }

    public static let version = 1

    public var zone: String
    public var operation: Operation
    public var records: [DNSUpdateRecord]

    public init(zone: String, operation: Operation, records: [DNSUpdateRecord]) {
        var name = zone.lowercased()
        while name.hasSuffix(".") { name.removeLast() }
        self.zone = name
        self.operation = operation
        self.records = records.sorted()
    }

    /// The requests for one zone change: additions first (`present` / `tlsa-publish`), then deletions
    /// (`cleanup` / `tlsa-withdraw`), an operation only when it has records. TXT and TLSA records of one
    /// change are not mixed by sslm; a TLSA record makes the change a TLSA one.
    public static func requests(for change: DNSZoneChange) -> [DNSProviderRequest] {
        let tlsa = (change.additions + change.deletions).contains { $0.typeName == "TLSA" }
        var result: [DNSProviderRequest] = []
        if !change.additions.isEmpty {
            result.append(
                .init(zone: change.zone, operation: tlsa ? .tlsaPublish : .present, records: change.additions))
        }
        if !change.deletions.isEmpty {
            result.append(
                .init(zone: change.zone, operation: tlsa ? .tlsaWithdraw : .cleanup, records: change.deletions))
        }
        return result
    }

    /// The document, one line, keys sorted.
    public var json: String {
        let rows: [[String: Any]] = records.map { record in
            let value: String
            switch record.content {
            case .txt(let text): value = text
            case .tlsa(let tlsa): value = tlsa.description
            }
            return ["owner": record.owner + ".", "type": record.typeName, "ttl": Int(record.ttl), "value": value]
        }
        let document: [String: Any] = [
            "version": Self.version, "zone": zone + ".", "operation": operation.rawValue, "records": rows,
        ]
        guard
            let data = try? JSONSerialization.data(
                withJSONObject: document, options: [.sortedKeys, .withoutEscapingSlashes])
        else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}
