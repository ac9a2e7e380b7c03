import SSLMConfig
import SSLMCore
import SSLMDNS
import SSLMPKI
import X509

/// The apply-time probe before `publish_tlsa` withdraws TLSA records that a restart of the same run was to
/// make obsolete (the plan could not probe for them: when it was made, the servers still presented the old
/// key). Each endpoint of a withdrawn record — the host and port of its owner (`_25._tcp.mail.example.com`
/// → `mail.example.com:25`), reached as `DANEEndpointProber` reaches it (`[dns] dane_connect`, else the
/// host's address at the `[[dns_primary]]`; STARTTLS on 25 and 587) — is probed. While one still presents
/// the certificate or key of a withdrawn end-entity record (usage 1 or 3, matched with the record's selector
/// and matching type), the withdrawal is held. An endpoint that cannot be probed holds it only with
/// `[dns] dane_unreachable_holds`, as at plan time.
///
/// Not for records that are only added: nothing is probed then.
enum TLSAWithdrawalGate {
    /// What the probe found: `held` is empty when the withdrawal may go ahead, else it has a sentence per
    /// endpoint that holds it, naming what it presents; `probed` says what the other endpoints presented.
    struct Verdict: Sendable {
        var held: [String] = []
        var probed: [String] = []
    }

    static func probe(
        apex: String, withdrawn: [DNSUpdateRecord], config: Config, probe: any TLSProbe,
        timeoutSeconds: Double = 10
    ) async -> Verdict {
        let query = DNSQuery(timeoutSeconds: min(timeoutSeconds, 3), retries: 1)
        var endpoints: [(host: String, port: Int)] = []
        for record in withdrawn {
            guard let found = DANEEndpointProber.endpoint(owner: record.owner),
                !endpoints.contains(where: { $0 == found })
            else { continue }
            endpoints.append(found)
        }
        // Probed concurrently (as `sslm check` probes), judged in a stable order.
        let sorted = endpoints.sorted(by: { ($0.host, $0.port) < ($1.host, $1.port) })
        let served = await ConcurrentMap.map(sorted, limit: 16) { host, port in
            await DANEEndpointProber.servedLeaf(
                host: host, port: port, apex: apex, config: config, query: query, probe: probe,
                timeoutSeconds: timeoutSeconds)
        }
        var verdict = Verdict()
        for ((host, port), outcome) in zip(sorted, served) {
            let endpoint = "\(host):\(port)"
            let records = withdrawn.filter {
                DANEEndpointProber.endpoint(owner: $0.owner).map { $0 == (host, port) } ?? false
            }
            switch outcome {
            case .failure(let failure):
                let sentence = DANEEndpointProbe(
                    service: apex, endpoint: endpoint, connect: failure.connect, spkiSHA256: nil, failure: failure.text
                ).sentence
                if config.dns.daneUnreachableHolds {
                    verdict.held.append(
                        "\(sentence) cannot be probed (\(failure.text)) and [dns] dane_unreachable_holds is set")
                } else {
                    verdict.probed.append("\(sentence) cannot be probed (\(failure.text))")
                }
            case .success(let served):
                let sentence = DANEEndpointProbe(
                    service: apex, endpoint: endpoint, connect: served.connect, spkiSHA256: nil, failure: nil
                ).sentence
                let spki = (try? TLSARecordData.hex(for: served.leaf, selector: 1, matchingType: 1)) ?? "?"
                let presented = "key SPKI SHA-256 \(spki.prefix(16))…"
                if let record = records.first(where: { matches($0, served.leaf) }) {
                    verdict.held.append(
                        "\(sentence) still presents the \(presented) of the record to withdraw (\(record.owner) TLSA "
                            + record.rdataText.prefix(24) + "…)")
                } else {
                    verdict.probed.append("\(sentence) presents the \(presented)")
                }
            }
        }
        return verdict
    }

    /// Whether `record` (an end-entity TLSA record, usage 1 or 3) matches `leaf`.
    static func matches(_ record: DNSUpdateRecord, _ leaf: Certificate) -> Bool {
        guard case .tlsa(let tlsa) = record.content, tlsa.usage == 1 || tlsa.usage == 3,
            let hex = try? TLSARecordData.hex(for: leaf, selector: tlsa.selector, matchingType: tlsa.matchingType)
        else { return false }
        return hex == tlsa.dataHex
    }
}
