import Foundation
import SSLMConfig
import SSLMCore

/// Gathers the DNS facts the observer and planner need before planning: today, the MX hosts of each apex
/// whose DANE records use MX owners (`dane_tls` entries with host set `.mx`).
///
/// Each apex is asked at its `[[dns_primary]]` server (`Config.dnsPrimary(for:)`); a host name there is
/// resolved through pinned servers (`NameserverResolution`; never /etc/resolv.conf). A failed lookup is recorded as a failure
/// (`mxHosts == nil`) with the reason — never as "no MX hosts". Blocking; apexes are queried concurrently.
public enum DNSFactsGatherer {
    /// Facts for those of `apexes` that need MX hosts, sorted by apex. Apexes without an MX DANE entry
    /// get no entry.
    public static func gather(config: Config, apexes: [String], lookup: MXLookup = MXLookup()) -> [DNSFacts] {
        let needed = Set(
            config.services.values.filter { service in service.dane.contains { $0.hostSet == .mx } }
                .map(\.address.group))
        let wanted = Set(apexes).intersection(needed).sorted()
        return concurrentMap(wanted) { apex in facts(apex: apex, config: config, lookup: lookup) }
    }

    /// The facts of one apex.
    public static func facts(apex: String, config: Config, lookup: MXLookup = MXLookup()) -> DNSFacts {
        guard let primary = config.dnsPrimary(for: apex) else {
            return DNSFacts(
                apex: apex, mxHosts: nil,
                failure: "no [[dns_primary]] for \(apex) and no default entry; add one to ssl-mgr.conf")
        }
        let server: NameserverAddress
        switch NameserverResolution(query: DNSQuery(timeoutSeconds: lookup.timeoutSeconds, retries: lookup.retries))
            .resolve(primary.server, config: config)
        {
        case .failure(let error):
            return DNSFacts(apex: apex, mxHosts: nil, failure: "the [[dns_primary]] for \(apex): \(error.message)")
        case .success(let addresses):
            guard let first = addresses.first else {
                return DNSFacts(apex: apex, mxHosts: nil, failure: "the [[dns_primary]] for \(apex) has no address")
            }
            server = first
        }
        switch lookup.mxHosts(apex: apex, server: server) {
        case .success(let hosts): return DNSFacts(apex: apex, mxHosts: hosts, failure: nil)
        case .failure(let error): return DNSFacts(apex: apex, mxHosts: nil, failure: error.message)
        }
    }

    /// What the authoritative name servers of each apex serve of the TLSA records sslm expects, for the
    /// publications that need it (`DANEPublication.needsServers`: some DANE service has a next to roll);
    /// the others are returned unchanged. The servers are those a propagation check uses
    /// (`PropagationTarget(apex:config:)`): the `[[dns_primary]]`, the `[[dns_nameservers]]` (else those
    /// discovered from NS records at the primary) and `dns_xtra_ns`, every query pinned to an address and
    /// port. Each server is asked for the apex's SOA serial and the TLSA records of every expected owner.
    /// A server that does not answer gets a `failure`; a target that cannot be built (no primary, a host
    /// name, failed discovery) makes the publication's `failure`. Blocking; servers are asked concurrently.
    public static func gatherTLSA(config: Config, publications: [DANEPublication], query: DNSQuery = DNSQuery())
        -> [DANEPublication]
    {
        publications.map { publication in
            guard publication.needsServers else { return publication }
            var observed = publication
            switch servers(apex: publication.apex, config: config, query: query) {
            case .failure(let error):
                observed.failure = error.message
            case .success(let servers):
                let owners = publication.owners
                observed.servers = concurrentMap(servers.map(\.offset)) { index in
                    served(
                        servers[index].element, isPrimary: index == 0, apex: publication.apex, owners: owners,
                        query: query)
                }
            }
            return observed
        }
    }

    /// The primary first, then the other servers, without repeated addresses.
    static func servers(apex: String, config: Config, query: DNSQuery)
        -> Result<[(offset: Int, element: AuthoritativeServer)], PropagationError>
    {
        let target: PropagationTarget
        do {
            target = try PropagationTarget(apex: apex, config: config)
        } catch {
            return .failure(error)
        }
        var list = [AuthoritativeServer(name: "primary", address: target.primary)]
        if let given = target.nameservers {
            list += given.map { AuthoritativeServer(address: $0) }
        } else {
            switch PropagationCheck.discover(target, query: query) {
            case .success(let found): list += found
            case .failure(let error): return .failure(error)
            }
        }
        list += target.extraNameservers.map { AuthoritativeServer(address: $0) }
        var unique: [AuthoritativeServer] = []
        for server in list where !unique.contains(where: { $0.address == server.address }) { unique.append(server) }
        return .success(Array(unique.enumerated()))
    }

    /// One server's SOA serial and TLSA records at `owners`.
    static func served(
        _ server: AuthoritativeServer, isPrimary: Bool, apex: String, owners: [String],
        query: DNSQuery
    ) -> ServedTLSA {
        let name = server.description
        var records: [String] = []
        var serial: UInt32?
        switch query.soaSerial(apex, at: server.address) {
        case .success(let value): serial = value
        case .failure(let error):
            return ServedTLSA(server: name, isPrimary: isPrimary, serial: nil, records: [], failure: error.message)
        }
        for owner in owners {
            switch query.tlsa(owner, at: server.address) {
            case .success(let found):
                records += found.map { DANERecord(owner: owner, ttl: nil, rdata: $0.description).key }
            case .failure(let error):
                return ServedTLSA(
                    server: name, isPrimary: isPrimary, serial: serial, records: records,
                    failure: error.message)
            }
        }
        return ServedTLSA(server: name, isPrimary: isPrimary, serial: serial, records: records, failure: nil)
    }

    private static func concurrentMap<Item: Sendable, T: Sendable>(
        _ items: [Item], _ body: @escaping @Sendable (Item) -> T
    ) -> [T] {
        if items.count < 2 { return items.map(body) }
        let results = Results<T>(count: items.count)
        DispatchQueue.concurrentPerform(iterations: items.count) { index in results.set(index, body(items[index])) }
        return results.values()
    }

    /// One slot per index, each written once before `values()`.
    private final class Results<T>: @unchecked Sendable {
        private var storage: [T?]
        private let lock = NSLock()
        init(count: Int) { storage = Array(repeating: nil, count: count) }
        func set(_ index: Int, _ value: T) { lock.withLock { storage[index] = value } }
        func values() -> [T] { lock.withLock { storage.compactMap { $0 } } }
    }
}
