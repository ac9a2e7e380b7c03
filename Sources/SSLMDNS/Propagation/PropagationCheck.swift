import Dispatch
import Logging
import SSLMCore

/// Waits until a dns-01 challenge (or any zone change) has reached every authoritative name server.
///
/// 1. Sleeps `initialDelaySeconds`.
/// 2. Polls the primary until it serves every expected TXT value (exact match among the TXT strings of
///    `_acme-challenge.<domain>`; a wildcard's value lives at its base name's owner).
/// 3. Reads the primary's SOA serial, then polls every name server and extra name server until each serves
///    that serial or a newer one (RFC 1982) — ssl-mgr demanded equality, so a server already past the primary
///    never passed.
///
/// Polls back off from `initialPollSeconds`, doubling to `maxPollSeconds`; phases 2–3 together are bounded by
/// `timeoutSeconds`, after which a `PropagationError` names the lagging server(s) and the serials seen.
/// Queries to different servers run concurrently on Dispatch's global queues, never blocking the cooperative
/// pool. Cancellation of the calling task ends the wait with `CancellationError`.
public struct PropagationCheck: Sendable {
    public var settings: PropagationSettings
    public var logger: Logger

    public init(settings: PropagationSettings, logger: Logger) {
        self.settings = settings
        self.logger = logger
    }

    private var query: DNSQuery { DNSQuery(timeoutSeconds: settings.queryTimeoutSeconds, retries: 0) }

    /// Waits for `target`; see the type's documentation.
    public func `await`(_ target: PropagationTarget) async throws -> PropagationReport {
        let clock = ContinuousClock()
        let start = clock.now
        let apex = PinnedResolver.normalised(target.apex) ?? target.apex
        if settings.initialDelaySeconds > 0 {
            logger.debug(
                "dns: waiting dns_check_delay before checking",
                metadata: ["dns.apex": "\(apex)", "dns.delay_s": "\(settings.initialDelaySeconds)"])
            try await Task.sleep(for: .seconds(settings.initialDelaySeconds))
        }
        var poller = Poller(settings: settings, clock: clock)

        try await awaitPrimaryTXT(target, apex: apex, poller: &poller)
        let primarySerial = try await readPrimarySerial(target, apex: apex, poller: &poller)
        let servers = try await serversToCheck(target, apex: apex, poller: &poller)
        let seen = try await awaitSerials(
            servers, apex: apex, primary: target.primary, primarySerial: primarySerial, poller: &poller)

        let elapsed = Self.seconds(clock.now - start)
        logger.info(
            "dns: \(apex) serial \(primarySerial) is served by all \(servers.count) name servers",
            metadata: ["dns.apex": "\(apex)", "dns.elapsed_s": "\(elapsed)", "dns.rounds": "\(poller.rounds)"])
        return PropagationReport(
            primarySerial: primarySerial, servers: seen, elapsedSeconds: elapsed, rounds: poller.rounds)
    }

    /// The name servers of `target.apex` as the primary lists them: each NS name's A and AAAA addresses (asked
    /// at the primary) on port 53, sorted by name then address. One attempt; `.discoveryFailed` when there are
    /// no NS records or a name has no address there, `.primaryUnreachable` when the primary does not answer.
    public func discoverNameservers(_ target: PropagationTarget) async throws -> [AuthoritativeServer] {
        let query = self.query
        let result = await Self.offPool { Self.discover(target, query: query) }
        return try result.get()
    }

    // MARK: phases

    private func awaitPrimaryTXT(_ target: PropagationTarget, apex: String, poller: inout Poller) async throws {
        var wanted: [String: [String]] = [:]
        for record in target.expectedTXT where !wanted[record.ownerName, default: []].contains(record.value) {
            wanted[record.ownerName, default: []].append(record.value)
        }
        guard !wanted.isEmpty else { return }
        let owners = wanted.keys.sorted()
        let query = self.query
        let primary = target.primary
        poller.startPhase()
        while true {
            poller.rounds += 1
            let answers = await Self.concurrently(owners) { owner in query.txt(owner, at: primary) }
            var failure: DNSLookupError?
            var missing: [(owner: String, value: String)] = []
            for (owner, answer) in zip(owners, answers) {
                switch answer {
                case .failure(let error): failure = error
                case .success(let strings):
                    for value in wanted[owner] ?? [] where !strings.contains(value) { missing.append((owner, value)) }
                }
            }
            if failure == nil && missing.isEmpty {
                logger.debug("dns: the primary serves all TXT values", metadata: ["dns.apex": "\(apex)"])
                return
            }
            guard try await poller.sleep() else {
                let waited = poller.waitedText
                if let failure {
                    throw PropagationError(
                        .primaryUnreachable,
                        "the primary \(primary) does not answer for \(apex): \(failure.message) (waited \(waited))")
                }
                let list = missing.map { "TXT \($0.owner) \"\(Self.prefix($0.value))\"" }.joined(separator: ", ")
                throw PropagationError(
                    .primaryMissingTXT,
                    "the primary \(primary) does not serve \(list) (waited \(waited)); check that the "
                        + "acme-challenge file is $INCLUDEd in the \(apex) zone and that the refresh command ran")
            }
        }
    }

    private func readPrimarySerial(_ target: PropagationTarget, apex: String, poller: inout Poller) async throws
        -> UInt32
    {
        let query = self.query
        let primary = target.primary
        poller.startPhase()
        while true {
            poller.rounds += 1
            let answer = await Self.offPool { query.soaSerial(apex, at: primary) }
            switch answer {
            case .success(let serial): return serial
            case .failure(let error):
                guard try await poller.sleep() else {
                    throw PropagationError(
                        .primaryUnreachable,
                        "the primary \(primary) does not answer for \(apex): \(error.message) "
                            + "(waited \(poller.waitedText))")
                }
            }
        }
    }

    private func serversToCheck(_ target: PropagationTarget, apex: String, poller: inout Poller) async throws
        -> [AuthoritativeServer]
    {
        var servers: [AuthoritativeServer]
        if let given = target.nameservers {
            servers = given.map { AuthoritativeServer(address: $0) }
        } else {
            let query = self.query
            poller.startPhase()
            discovery: while true {
                poller.rounds += 1
                switch await Self.offPool({ Self.discover(target, query: query) }) {
                case .success(let list):
                    servers = list
                    break discovery
                case .failure(let error):
                    // an unanswered query may be transient; missing records are not
                    guard error.kind == .primaryUnreachable, try await poller.sleep() else { throw error }
                }
            }
        }
        servers += target.extraNameservers.map { AuthoritativeServer(address: $0) }
        var unique: [AuthoritativeServer] = []
        for server in servers where !unique.contains(where: { $0.address == server.address }) { unique.append(server) }
        return unique
    }

    private func awaitSerials(
        _ servers: [AuthoritativeServer], apex: String, primary: NameserverAddress, primarySerial: UInt32,
        poller: inout Poller
    ) async throws -> [String: UInt32] {
        let query = self.query
        var pending = servers
        var seen: [String: UInt32] = [:]
        var last: [AuthoritativeServer: Result<UInt32, DNSLookupError>] = [:]
        poller.startPhase()
        while !pending.isEmpty {
            poller.rounds += 1
            let answers = await Self.concurrently(pending) { server in query.soaSerial(apex, at: server.address) }
            var still: [AuthoritativeServer] = []
            for (server, answer) in zip(pending, answers) {
                last[server] = answer
                if case .success(let serial) = answer, SOASerial.isAtLeast(serial, primarySerial) {
                    seen[server.description] = serial
                    logger.debug(
                        "dns: \(server) serves serial \(serial)",
                        metadata: ["dns.apex": "\(apex)", "dns.server": "\(server)"])
                } else {
                    still.append(server)
                }
            }
            pending = still
            if pending.isEmpty { break }
            guard try await poller.sleep() else {
                let waited = poller.waitedText
                let lines = pending.map { server -> String in
                    switch last[server] {
                    case .success(let serial):
                        return "\(server) still serves serial \(serial) for \(apex)"
                    case .failure(let error):
                        return "\(server) does not answer for \(apex): \(error.message)"
                    case nil:
                        return "\(server) was not asked"
                    }
                }
                throw PropagationError(
                    .nameserversLagging,
                    lines.joined(separator: "; ") + "; the primary \(primary) has \(primarySerial) (waited \(waited))",
                    laggingServers: pending.map(\.description))
            }
        }
        return seen
    }

    // MARK: helpers

    /// The apex's name servers as the primary lists them (one attempt; see `discoverNameservers`).
    static func discover(_ target: PropagationTarget, query: DNSQuery)
        -> Result<[AuthoritativeServer], PropagationError>
    {
        let apex = PinnedResolver.normalised(target.apex) ?? target.apex
        let primary = target.primary
        let names: [String]
        switch query.nameservers(apex, at: primary) {
        case .failure(let error):
            return .failure(
                PropagationError(
                    .primaryUnreachable, "the primary \(primary) does not answer for \(apex): \(error.message)"))
        case .success(let list): names = list
        }
        guard !names.isEmpty else {
            return .failure(
                PropagationError(
                    .discoveryFailed,
                    "the primary \(primary) lists no NS records for \(apex); list the servers in "
                        + "[[dns_nameservers]]"))
        }
        var servers: [AuthoritativeServer] = []
        for name in names {
            switch query.addresses(name, at: primary) {
            case .success(let addresses) where !addresses.isEmpty:
                servers += addresses.map { AuthoritativeServer(name: name, address: NameserverAddress(host: $0)) }
            case .success:
                return .failure(
                    PropagationError(
                        .discoveryFailed,
                        "the primary \(primary) has no address for NS \(name) of \(apex); list the servers in "
                            + "[[dns_nameservers]] for \(apex)"))
            case .failure(let error):
                return .failure(
                    PropagationError(
                        .discoveryFailed,
                        "cannot find the address of NS \(name) of \(apex) at the primary \(primary): "
                            + "\(error.message); list the servers in [[dns_nameservers]] for \(apex)"))
            }
        }
        return .success(servers)
    }

    /// Runs a blocking body on a Dispatch queue, off the cooperative pool.
    private static func offPool<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            DispatchQueue.global(qos: .utility).async { continuation.resume(returning: body()) }
        }
    }

    /// `body` for every item, concurrently, results in input order.
    private static func concurrently<Item: Sendable, T: Sendable>(
        _ items: [Item], _ body: @escaping @Sendable (Item) -> T
    ) async -> [T] {
        if items.count == 1, let only = items.first { return [await offPool { body(only) }] }
        return await withTaskGroup(of: (Int, T).self) { group in
            for (index, item) in items.enumerated() {
                group.addTask { (index, await offPool { body(item) }) }
            }
            var results: [(Int, T)] = []
            for await result in group { results.append(result) }
            return results.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }

    private static func prefix(_ value: String) -> String {
        value.count > 16 ? String(value.prefix(16)) + "…" : value
    }

    static func seconds(_ duration: Duration) -> Double {
        let parts = duration.components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }

    /// Backoff and the overall deadline, shared by the phases.
    private struct Poller {
        let settings: PropagationSettings
        let clock: ContinuousClock
        let started: ContinuousClock.Instant
        let deadline: ContinuousClock.Instant
        var interval: Double
        var rounds = 0

        init(settings: PropagationSettings, clock: ContinuousClock) {
            self.settings = settings
            self.clock = clock
            started = clock.now
            deadline = started + .seconds(settings.timeoutSeconds)
            interval = settings.initialPollSeconds
        }

        mutating func startPhase() { interval = settings.initialPollSeconds }

        /// Sleeps before the next round; false when the deadline has passed (no more rounds).
        mutating func sleep() async throws -> Bool {
            let now = clock.now
            guard now < deadline else { return false }
            let remaining = PropagationCheck.seconds(deadline - now)
            try await Task.sleep(for: .seconds(min(interval, remaining)))
            interval = min(interval * 2, settings.maxPollSeconds)
            return true
        }

        var waitedText: String {
            let seconds = PropagationCheck.seconds(clock.now - started)
            return "\((seconds * 10).rounded() / 10) s"
        }
    }
}
