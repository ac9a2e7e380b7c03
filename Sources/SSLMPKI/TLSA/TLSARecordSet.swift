import SSLMCore
import X509

/// The TLSA records of one certificate for a service's `dane_tls` list (spec §3.10, without its quirks).
///
/// For each spec, in config order: the apex record `_<port>._<proto>.<apex>.`, then one record per host
/// of the spec's host set — the apex's MX hosts (`DANESpec.hostSet == .mx`) or the SANs — skipping the
/// apex itself (no duplicated row), duplicates, and (with a warning) wildcard and IP-address SANs, which
/// cannot be owner names. TTL from `dane_tls_ttl`; ≤ 0 writes none, and a TTL above RFC 2181's 2³¹ − 1
/// (which config validation rejects) is written as 2³¹ − 1.
public enum TLSARecordSet {
    /// The records, and warnings for skipped owner names. `sourceFile` locates the warnings (the service
    /// config file).
    ///
    /// Usages 1 and 3 are computed from `certificate` (the leaf); usages 0 and 2 (a CA: PKIX-TA, DANE-TA)
    /// from `issuer`, the CA that issued it (the first certificate of `chain.pem`) — an error without it.
    public static func records(
        apex: String, specs: [DANESpec], ttl: Int, certificate: Certificate, issuer: Certificate? = nil,
        sans: [String], mxHosts: [String], sourceFile: String = ""
    ) throws -> (records: [TLSARecord], warnings: [Diagnostic]) {
        let apexName = normalized(apex)
        var records: [TLSARecord] = []
        var warnings: [Diagnostic] = []
        var warned = Set<String>()
        for spec in specs {
            let source: Certificate
            if spec.usage == 0 || spec.usage == 2 {
                guard let issuer else {
                    throw SSLMError(
                        .malformedInput,
                        "usage \(spec.usage) records name the issuing CA, whose certificate (chain.pem) is missing")
                }
                source = issuer
            } else {
                source = certificate
            }
            let hex = try TLSARecordData.hex(for: source, selector: spec.selector, matchingType: spec.matchingType)
            let prefix = "_\(spec.port)._\(spec.proto.lowercased())."
            func record(_ host: String) -> TLSARecord {
                TLSARecord(
                    owner: prefix + host + ".", ttl: ttl > 0 ? min(ttl, ConfigLimits.ttlSeconds.upperBound) : nil,
                    usage: spec.usage, selector: spec.selector,
                    matchingType: spec.matchingType, dataHex: hex)
            }
            records.append(record(apexName))
            var seen: Set<String> = [apexName]
            let hosts = spec.hostSet == .mx ? mxHosts : sans
            for host in hosts {
                let name = normalized(host)
                if spec.hostSet == .sans {
                    if name.hasPrefix("*.") || HostName.isIPv4(name) || HostName.isIPv6(name) || name.isEmpty {
                        if warned.insert(name).inserted {
                            warnings.append(
                                .warning(
                                    file: sourceFile, table: nil, key: "dane_tls",
                                    "SAN \"\(host)\" cannot be a TLSA owner name (wildcard or IP address); skipped"))
                        }
                        continue
                    }
                }
                guard !name.isEmpty, seen.insert(name).inserted else { continue }
                records.append(record(name))
            }
        }
        return (records, warnings)
    }

    /// Lowercase, no trailing dot.
    static func normalized(_ name: String) -> String {
        var text = name.lowercased()
        while text.hasSuffix(".") { text.removeLast() }
        return text
    }
}
