import Foundation
import SSLMConfig
import SSLMCore
import SSLMDNS
import SSLMObserve
import SSLMPKI
import SSLMPlan
import X509

/// `sslm check`: the live state against sslm's. For every DANE service and every TLSA owner host (the apex
/// plus the MX hosts or SANs, as `TLSARecordSet` chooses them — the same rule the TLSA file is built with):
/// the published TLSA records (validated when a trusted resolver sets AD), the chain the server presents,
/// whether a published record matches it, and whether its leaf is sslm's `curr`. For every TLS endpoint of
/// a service (`check_endpoints`, or a web service's SANs on 443; `TLSEndpointCheck`): whether the served
/// leaf is `curr`, whether the served chain verifies, and how long it has left. Plus, for every chosen
/// service, a production `curr` inside its renewal window without a `next`.
///
/// Read-only: never writes a file, never changes DNS. Every DNS query goes to `options.resolver` or the
/// apex's `[[dns_primary]]`; every connection to `options.connect` or the host's address from that server.
///
/// Concurrent and bounded: first every service is prepared (its files, its DNS server, its MX hosts), then
/// every endpoint of every service is probed, at most `options.concurrency` of each at a time
/// (`ConcurrentMap`); the blocking DNS lookups (libldns) run on threads of their own, off the cooperative
/// pool. The whole check takes about as long as its slowest endpoint when there are no more than
/// `options.concurrency` endpoints. The report's order is the configuration's, whatever order the probes
/// finish in.
public enum DANECheck {
    /// One probe to make.
    enum Job: Sendable {
        case dane(DANEJob)
        case tls(TLSEndpointCheck.Job)
    }

    /// A probe's outcome.
    enum JobResult: Sendable {
        case dane(DANECheckReport.Endpoint)
        case tls(DANECheckReport.TLSEndpoint)
    }

    /// One (service, `dane_tls` entry, TLSA owner host) with what its check needs.
    struct DANEJob: Sendable {
        var service: ServiceConfig
        var spec: DANESpec
        var host: String
        var owner: String
        var expected: TLSARecord
        var nextHex: String?
        var curr: Certificate
        var next: Certificate?
        var server: NameserverAddress
    }

    /// Runs every check for `services` (in that order) and reports.
    public static func run(
        config: Config, services: [ServiceAddress], options: DANECheckOptions,
        probe: any TLSProbe = OpenSSLTLSProbe(), query: DNSQuery? = nil
    ) async -> DANECheckReport {
        let query = query ?? DNSQuery(timeoutSeconds: min(options.timeoutSeconds, 3), retries: 1)
        let chosen = services.compactMap { config.service($0) }
        let limit = options.concurrency
        let prepared = await ConcurrentMap.map(chosen, limit: limit) { service in
            await prepare(service: service, config: config, options: options, query: query)
        }
        let results = await ConcurrentMap.map(prepared.flatMap(\.jobs), limit: limit) { job -> JobResult in
            switch job {
            case .dane(let job):
                return .dane(await checkEndpoint(job, options: options, probe: probe, query: query))
            case .tls(let job):
                return .tls(await TLSEndpointCheck.check(job, options: options, probe: probe, query: query))
            }
        }
        var endpoints: [DANECheckReport.Endpoint] = []
        var tlsEndpoints: [DANECheckReport.TLSEndpoint] = []
        for result in results {
            switch result {
            case .dane(let endpoint): endpoints.append(endpoint)
            case .tls(let endpoint): tlsEndpoints.append(endpoint)
            }
        }
        let source =
            options.resolver.map { "resolver \($0) (validating; the AD flag is trusted)" }
            ?? "[[dns_primary]] servers (no --resolver: answers are not DNSSEC-validated)"
        return DANECheckReport(
            now: options.now, dnsSource: source, validating: options.resolver != nil, endpoints: endpoints,
            tlsEndpoints: tlsEndpoints, services: chosen.map(\.address.description),
            findings: prepared.flatMap(\.findings))
    }

    // MARK: one service

    /// A service's findings (renewal, no curr, DNS unavailable…) and the probes to make for it: its DANE
    /// endpoints, then its TLS endpoints.
    private static func prepare(
        service: ServiceConfig, config: Config, options: DANECheckOptions, query: DNSQuery
    ) async -> (findings: [DANECheckReport.Finding], jobs: [Job]) {
        var findings = renewalFindings(config: config, service: service, now: options.now)
        var jobs: [Job] = []
        if !service.dane.isEmpty {
            let dane = await prepareDANE(service: service, config: config, options: options, query: query)
            findings += dane.findings
            jobs += dane.jobs.map(Job.dane)
        }
        let tls = await TLSEndpointCheck.prepare(
            service: service, config: config, options: options, query: query,
            currReported: findings.contains { $0.code == "no_curr" })
        findings += tls.findings
        jobs += tls.jobs.map(Job.tls)
        return (findings, jobs)
    }

    private static func prepareDANE(
        service: ServiceConfig, config: Config, options: DANECheckOptions, query: DNSQuery
    ) async -> (jobs: [DANEJob], findings: [DANECheckReport.Finding]) {
        let address = service.address
        let apex = address.group
        func failed(_ code: String, _ message: String) -> DANECheckReport.Finding {
            .init(service: address.description, code: code, status: .failed, message: message)
        }
        let curr: Certificate
        do {
            guard
                let found = try firstCertificate(
                    CertsLayout.certificateFile(topdir: config.topdir, address: address, slot: .curr))
            else {
                return (
                    [],
                    [
                        failed(
                            "no_curr",
                            "no curr certificate (certs/\(address)/curr/cert.pem): nothing to check the servers against; "
                                + "run sslm apply"
                        )
                    ]
                )
            }
            curr = found
        } catch {
            return ([], [failed("no_curr", "curr certificate unreadable: \(error)")])
        }
        let next = try? firstCertificate(
            CertsLayout.certificateFile(topdir: config.topdir, address: address, slot: .next))
        guard let configured = options.resolver ?? config.dnsPrimary(for: apex)?.server else {
            return (
                [],
                [
                    failed(
                        "dns_unavailable",
                        "no --resolver and no [[dns_primary]] for \(apex): cannot look up TLSA records")
                ]
            )
        }
        // A host name is resolved at the configuration's pinned servers (never /etc/resolv.conf).
        let server: NameserverAddress
        switch await ConcurrentMap.offPool({ NameserverResolution(query: query).resolve(configured, config: config) }) {
        case .success(let addresses) where !addresses.isEmpty:
            server = addresses[0]
        case .success:
            return ([], [failed("dns_unavailable", "the DNS server \(configured.host) for \(apex) has no address")])
        case .failure(let error):
            return ([], [failed("dns_unavailable", "the DNS server for \(apex): \(error.message)")])
        }
        var mxHosts: [String] = []
        if service.dane.contains(where: { $0.hostSet == .mx }) {
            let lookup = MXLookup(timeoutSeconds: query.timeoutSeconds, retries: query.retries)
            switch await ConcurrentMap.offPool({ lookup.mxHosts(apex: apex, server: server) }) {
            case .success(let hosts): mxHosts = hosts
            case .failure(let error):
                return ([], [failed("dns_unavailable", "MX hosts of \(apex): \(error.message)")])
            }
        }
        let sans: [String]
        do {
            let facts = try CertificateFacts(curr)
            sans = facts.dnsNames + facts.ipAddresses
        } catch {
            return ([], [failed("no_curr", "curr certificate unreadable: \(error)")])
        }

        var jobs: [DANEJob] = []
        var findings: [DANECheckReport.Finding] = []
        for spec in service.dane {
            let records: [TLSARecord]
            do {
                let issuer =
                    spec.usage == 0 || spec.usage == 2
                    ? try firstCertificate(
                        CertsLayout.serviceDirectory(topdir: config.topdir, address: address) + "/curr/chain.pem")
                    : nil
                records = try TLSARecordSet.records(
                    apex: apex, specs: [spec], ttl: 0, certificate: curr, issuer: issuer, sans: sans, mxHosts: mxHosts
                ).records
            } catch {
                findings.append(failed("tlsa_owners", "dane_tls \(spec): \(error)"))
                continue
            }
            let nextHex = next.flatMap {
                try? TLSARecordData.hex(for: $0, selector: spec.selector, matchingType: spec.matchingType)
            }
            let prefix = "_\(spec.port)._\(spec.proto.lowercased())."
            for record in records {
                var owner = record.owner
                while owner.hasSuffix(".") { owner.removeLast() }
                let host = String(owner.dropFirst(prefix.count))
                jobs.append(
                    DANEJob(
                        service: service, spec: spec, host: host, owner: owner, expected: record, nextHex: nextHex,
                        curr: curr, next: next, server: server))
            }
        }
        return (jobs, findings)
    }

    // MARK: one endpoint

    private static func checkEndpoint(
        _ job: DANEJob, options: DANECheckOptions, probe: any TLSProbe, query: DNSQuery
    ) async -> DANECheckReport.Endpoint {
        let (service, spec, host, owner, expected) = (job.service, job.spec, job.host, job.owner, job.expected)
        let (nextHex, curr, next, server) = (job.nextHex, job.curr, job.next, job.server)
        let startTLS = options.startTLSProtocol(port: spec.port)
        var endpoint = DANECheckReport.Endpoint(
            service: service.address.description, dane: spec.description, host: host, port: spec.port, owner: owner,
            connect: nil, startTLS: startTLS, dnsServer: server.description, validated: false, published: [],
            matching: [], served: nil, status: .ok, problems: [], warnings: [])
        let place = "\(host) port \(spec.port)"

        // 1. The published records.
        var published: [DNSTLSARecord] = []
        let validating = options.resolver != nil
        let lookup = await ConcurrentMap.offPool {
            validating
                ? query.validatedTLSA(owner, at: server)
                : query.tlsa(owner, at: server).map { DNSAnswer(value: $0, authenticated: false) }
        }
        switch lookup {
        case .failure(let error):
            endpoint.problems.append("TLSA lookup failed: \(error.message)")
        case .success(let answer):
            published = answer.value
            endpoint.published = published.map(\.description)
            endpoint.validated = options.resolver != nil && answer.authenticated
            if published.isEmpty {
                endpoint.problems.append(
                    "no TLSA record published at \(owner) (\(server)); expected \(expected.usage) \(expected.selector) "
                        + "\(expected.matchingType) \(expected.dataHex) for curr")
            }
            if !endpoint.validated {
                let why =
                    options.resolver.map {
                        "the resolver \($0) did not set the AD flag (unsigned or insecure zone, or no trust anchor)"
                    }
                    ?? "no --resolver was given, so the answer from the [[dns_primary]] \(server) cannot be validated"
                let sentence = "the TLSA answer for \(owner) is not DNSSEC-validated: \(why)"
                if options.allowUnvalidated {
                    endpoint.warnings.append(sentence)
                } else {
                    endpoint.problems.append(sentence)
                }
            }
        }

        // 2. The served chain.
        guard spec.proto.lowercased() == "tcp" else {
            endpoint.warnings.append(
                "\(spec.proto) service: sslm check connects over TCP only, so the served chain was not checked")
            return finish(endpoint)
        }
        var target = options.connect[host]
        if target == nil {
            switch await ConcurrentMap.offPool({ query.addresses(host, at: server) }) {
            case .success(let addresses):
                if let first = addresses.first {
                    target = NameserverAddress(host: first, port: spec.port)
                } else {
                    endpoint.problems.append(
                        "\(host) has no A or AAAA record at \(server): nowhere to connect "
                            + "(or give --connect \(host)=ADDR:PORT)"
                    )
                }
            case .failure(let error):
                endpoint.problems.append("cannot find where to connect for \(host): \(error.message)")
            }
        }
        guard let target else { return finish(endpoint) }
        endpoint.connect = target.description
        let chain: [Certificate]
        switch await probe.servedChain(
            connect: target, serverName: host, startTLS: startTLS, timeoutSeconds: options.timeoutSeconds)
        {
        case .failure(let error):
            endpoint.problems.append("\(place): \(error.message)")
            return finish(endpoint)
        case .success(let served): chain = served
        }
        guard let leaf = chain.first else { return finish(endpoint) }
        endpoint.served = ServedLeaf.describe(chain: chain, curr: curr, next: next)

        // 3. Does a published record match the served chain?
        var unmatched: [DNSTLSARecord] = []
        for record in published {
            // Usage 1/3 name the leaf; 0/2 a trust anchor, normally an issuer in the chain (RFC 7671 §5.2).
            let candidates = record.usage == 1 || record.usage == 3 ? [leaf] : chain
            let matchIndex = candidates.firstIndex { cert in
                (try? TLSARecordData.hex(for: cert, selector: record.selector, matchingType: record.matchingType))
                    == record.dataHex
            }
            if let matchIndex {
                endpoint.matching.append(record.description)
                if record.usage == 0 || record.usage == 2, matchIndex == 0 {
                    endpoint.warnings.append(
                        "TLSA \(record) (trust anchor) matches the served leaf itself, not an issuer in the chain; "
                            + "many DANE verifiers expect usage 3 for that")
                }
                if record.usage < 2 {
                    endpoint.warnings.append(
                        "TLSA \(record.usage) \(record.selector) \(record.matchingType) (PKIX) also needs a chain to a "
                            + "public root; sslm check does not verify that")
                }
            } else {
                unmatched.append(record)
            }
        }
        let servedSPKI =
            (try? TLSARecordData.hex(for: leaf, selector: spec.selector, matchingType: spec.matchingType)) ?? "?"
        if !published.isEmpty && endpoint.matching.isEmpty {
            let list = unmatched.map { "\(owner) TLSA \($0)" }.joined(separator: "; ")
            endpoint.problems.append(
                "\(place): the served chain matches no published TLSA record: \(list) does not match "
                    + "(the served leaf has \(spec.usage) \(spec.selector) \(spec.matchingType) \(servedSPKI))")
        } else {
            for record in unmatched where record.dataHex != nextHex {
                endpoint.warnings.append(
                    "\(owner) TLSA \(record) matches neither the served chain nor sslm's next: "
                        + "a stale or foreign record?"
                )
            }
        }

        // 4. Is it sslm's curr?
        if let served = endpoint.served,
            let problem = ServedLeaf.problem(served, curr: curr, place: place, target: target)
        {
            endpoint.problems.append(problem)
        }
        return finish(endpoint)
    }

    static func finish(_ endpoint: DANECheckReport.Endpoint) -> DANECheckReport.Endpoint {
        var endpoint = endpoint
        endpoint.status = !endpoint.problems.isEmpty ? .failed : (!endpoint.warnings.isEmpty ? .warning : .ok)
        return endpoint
    }

    // MARK: renewal

    /// A production `curr` past its renewal point without a `next` (warning), or expired (failure).
    static func renewalFindings(config: Config, service: ServiceConfig, now: Date) -> [DANECheckReport.Finding] {
        let address = service.address
        let production =
            ProductionLayout.serviceDirectory(
                prodRoot: config.globals.prodCertDir, address: address, slot: .curr) + "/cert.pem"
        let certsCurr = CertsLayout.certificateFile(topdir: config.topdir, address: address, slot: .curr)
        let path = FileManager.default.fileExists(atPath: production) ? production : certsCurr
        guard let certificate = try? firstCertificate(path), let facts = try? CertificateFacts(certificate) else {
            return []
        }
        let assessment = RenewalAssessment(certificate: facts, renewInfo: service.renewInfo, now: now)
        let nextPath = CertsLayout.certificateFile(topdir: config.topdir, address: address, slot: .next)
        let hasNext = FileManager.default.fileExists(atPath: nextPath)
        let shown = path == production ? "production curr (\(production))" : "curr"
        if assessment.daysLeft <= 0 {
            return [
                .init(
                    service: address.description, code: "expired", status: .failed,
                    message: "\(shown) expired on \(Timestamps.rfc3339(facts.notAfter)); run sslm apply")
            ]
        }
        guard assessment.isDue, !hasNext else { return [] }
        return [
            .init(
                service: address.description, code: "renewal_due_without_next", status: .warning,
                message: "\(shown) is within its renewal window and there is no next: \(assessment.sentence); "
                    + "run sslm apply")
        ]
    }

    /// The first certificate of a PEM file; nil when the file does not exist.
    static func firstCertificate(_ path: String) throws -> Certificate? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        return try CertificatePEM.read(path: path).first
    }
}
