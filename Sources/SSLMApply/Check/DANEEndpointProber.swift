import Foundation
import SSLMConfig
import SSLMCore
import SSLMDNS
import SSLMPKI
import X509

/// Probes the DANE endpoints of an apex before its published TLSA file may change: for every apex whose
/// published copies (`[dns] tlsa_dirs`, or what was sent to a zone sslm changes itself) differ from
/// `certs/<apex>/tlsa.<apex>` (an update, possibly withdrawing an old key's records, is pending) or that has
/// a DANE service with a pending next (a roll may come), each endpoint of each DANE service (the host and
/// port of a TLSA owner of curr, `_25._tcp.mail.example.com` → `mail.example.com:25`) is connected to — at
/// its `[dns] dane_connect` address, else at the host's address from the apex's `[[dns_primary]]` (never
/// /etc/resolv.conf) — with STARTTLS on 25 and 587, as `sslm check` does, and the SPKI of the presented leaf
/// is recorded. The planner then withdraws an old key's records only once no endpoint presents that key;
/// after a restart of the same run, `publish_tlsa` probes again (`TLSAWithdrawalGate`, `servedLeaf`).
///
/// Reads only; never throws: an endpoint that cannot be probed is a `DANEEndpointProbe` with a failure.
public enum DANEEndpointProber {
    public static func probe(
        config: Config, observation: Observation, probe: any TLSProbe = OpenSSLTLSProbe(),
        timeoutSeconds: Double = 10
    ) async -> [DANEEndpointProbe]? {
        let query = DNSQuery(timeoutSeconds: min(timeoutSeconds, 3), retries: 1)
        var result: [DANEEndpointProbe] = []
        for publication in observation.danePublications ?? [] where needsProbe(publication.apex, config, observation) {
            for slot in publication.expected where slot.slot == CertificateSlot.curr.rawValue {
                let service = publication.apex + "/" + slot.service
                var endpoints: [(String, Int)] = []
                for record in slot.records {
                    guard let found = endpoint(owner: record.owner), !endpoints.contains(where: { $0 == found })
                    else { continue }
                    endpoints.append(found)
                }
                for (host, port) in endpoints.sorted(by: { ($0.0, $0.1) < ($1.0, $1.1) }) {
                    result.append(
                        await probeOne(
                            service: service, host: host, port: port, apex: publication.apex, config: config,
                            query: query, probe: probe, timeoutSeconds: timeoutSeconds))
                }
            }
        }
        return result.isEmpty ? nil : result
    }

    /// Whether a published copy of the apex's TLSA file (in `[dns] tlsa_dirs`, or for a zone sslm changes
    /// itself, `.sslm/dns/tlsa-sent.<apex>`) differs from the file, or a DANE service of the apex has a
    /// pending next.
    static func needsProbe(_ apex: String, _ config: Config, _ observation: Observation) -> Bool {
        let sent = (config.dnsPrimary(for: apex)?.update ?? .include) != .include
        let copies = sent ? [DNSPublicationFiles.relativeDirectory] : config.dns.tlsaDirs
        guard let group = observation.group(apex), let file = group.tlsaFile, !copies.isEmpty else { return false }
        if copies.contains(where: { (group.tlsaCopies[$0] ?? nil) != file }) { return true }
        return config.services.values.contains { service in
            service.address.group == apex && !service.dane.isEmpty
                && observation.service(service.address).flatMap { $0.dbDir($0.next)?.certificate } != nil
        }
    }

    /// `_25._tcp.mail.example.com.` → (`mail.example.com`, 25); nil for another shape or a non-TCP owner.
    static func endpoint(owner: String) -> (String, Int)? {
        var labels = owner.lowercased().split(separator: ".").map(String.init)
        guard labels.count >= 3, labels[0].hasPrefix("_"), labels[1] == "_tcp", let port = Int(labels[0].dropFirst())
        else { return nil }
        labels.removeFirst(2)
        return (labels.joined(separator: "."), port)
    }

    private static func probeOne(
        service: String, host: String, port: Int, apex: String, config: Config, query: DNSQuery,
        probe: any TLSProbe, timeoutSeconds: Double
    ) async -> DANEEndpointProbe {
        let endpoint = "\(host):\(port)"
        switch await servedLeaf(
            host: host, port: port, apex: apex, config: config, query: query, probe: probe,
            timeoutSeconds: timeoutSeconds)
        {
        case .failure(let failure):
            return DANEEndpointProbe(
                service: service, endpoint: endpoint, connect: failure.connect, spkiSHA256: nil,
                failure: failure.text)
        case .success(let served):
            guard let spki = try? TLSARecordData.hex(for: served.leaf, selector: 1, matchingType: 1) else {
                return DANEEndpointProbe(
                    service: service, endpoint: endpoint, connect: served.connect, spkiSHA256: nil,
                    failure: "presented no usable certificate")
            }
            return DANEEndpointProbe(
                service: service, endpoint: endpoint, connect: served.connect, spkiSHA256: spki, failure: nil)
        }
    }

    /// Why an endpoint presented no certificate, and where it was reached (nil before a connection).
    struct ProbeFailure: Error {
        var text: String
        var connect: String?
    }

    /// The leaf certificate `host:port` presents, reached at its `[dns] dane_connect` address, else at the
    /// host's address from the apex's `[[dns_primary]]` (never /etc/resolv.conf); STARTTLS on 25 and 587.
    static func servedLeaf(
        host: String, port: Int, apex: String, config: Config, query: DNSQuery, probe: any TLSProbe,
        timeoutSeconds: Double
    ) async -> Result<(leaf: Certificate, connect: String), ProbeFailure> {
        var target = config.dns.daneConnect[host]
        if target == nil {
            guard let server = config.dnsPrimary(for: apex)?.server,
                HostName.isIPv4(server.host) || HostName.isIPv6(server.host)
            else {
                return .failure(
                    ProbeFailure(text: "no [[dns_primary]] address to look up \(host) at (or set [dns] dane_connect)"))
            }
            switch query.addresses(host, at: server) {
            case .success(let addresses):
                guard let first = addresses.first else {
                    return .failure(ProbeFailure(text: "\(host) has no address at \(server)"))
                }
                target = NameserverAddress(host: first, port: port)
            case .failure(let error):
                return .failure(ProbeFailure(text: "cannot look up \(host) at \(server): \(error)"))
            }
        }
        guard let target else { return .failure(ProbeFailure(text: "nowhere to connect")) }
        let served = await probe.servedChain(
            connect: target, serverName: host, startTLS: DANECheckOptions.defaultStartTLS[port],
            timeoutSeconds: timeoutSeconds)
        switch served {
        case .failure(let error): return .failure(ProbeFailure(text: error.message, connect: target.description))
        case .success(let chain):
            guard let leaf = chain.first else {
                return .failure(ProbeFailure(text: "presented no certificate", connect: target.description))
            }
            return .success((leaf, target.description))
        }
    }
}
