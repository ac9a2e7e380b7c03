import Foundation
import SSLMConfig
import SSLMCore

/// Gathers the DNS facts the observer and planner need before planning: today, the MX hosts of each apex
/// whose DANE records use MX owners (`dane_tls` entries with host set `.mx`).
///
/// Each apex is asked at its `[[dns_primary]]` server (`Config.dnsPrimary(for:)`), which must be an IP
/// address (sslm never resolves through /etc/resolv.conf). A failed lookup is recorded as a failure
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
        guard HostName.isIPv4(primary.server.host) || HostName.isIPv6(primary.server.host) else {
            return DNSFacts(
                apex: apex, mxHosts: nil,
                failure:
                    "the [[dns_primary]] for \(apex) is given as a host name (\(primary.server.host)); use an address")
        }
        switch lookup.mxHosts(apex: apex, server: primary.server) {
        case .success(let hosts): return DNSFacts(apex: apex, mxHosts: hosts, failure: nil)
        case .failure(let error): return DNSFacts(apex: apex, mxHosts: nil, failure: error.message)
        }
    }

    private static func concurrentMap<T: Sendable>(_ items: [String], _ body: @escaping @Sendable (String) -> T) -> [T]
    {
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
