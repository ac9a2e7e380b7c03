import Foundation
import SSLMConfig
import SSLMCore
import SSLMDNS
import SSLMObserve
import SSLMPKI
import SSLMPlan
import X509

/// The TLS endpoint checks of `sslm check`: for every endpoint of a service (`check_endpoints`, or a web
/// service's SANs on 443: `Config.checkEndpoints(for:)`), the chain the server presents, whether its leaf
/// is sslm's `curr` (or `next`, or neither), whether it verifies (`ChainVerifier.verifyServed`: RFC 5280 to
/// the root of the service's `chain.pem`, or the system trust store, and the endpoint's host name), and how
/// many days it has left (a warning inside the service's renewal window, a failure once expired).
///
/// Where it connects, as for a DANE endpoint: `--connect HOST=ADDR:PORT`, else an IP-literal host as
/// written, else the host's first address from `--resolver` or the group's `[[dns_primary]]` (a host-name
/// primary resolved at the configuration's pinned servers; never /etc/resolv.conf). How TLS starts: the
/// entry's `=PROTOCOL`, else the port's default (`--starttls`, 25 and 587 → smtp).
enum TLSEndpointCheck {
    /// One endpoint of one service, with what its check needs.
    struct Job: Sendable {
        var service: ServiceConfig
        var endpoint: CheckEndpoint
        /// `check_endpoints`, or why the service is a web service.
        var source: String
        var curr: Certificate
        var next: Certificate?
        /// The service's `curr/chain.pem`: it chooses the trust anchor.
        var caChain: [Certificate]
        /// Where host names are looked up; nil when no endpoint of the service needs a lookup.
        var dns: Result<NameserverAddress, SSLMError>?
    }

    /// The jobs of a service's TLS endpoints; a `no_curr` finding when there is nothing to compare with
    /// (unless `currReported`: the DANE check already said so).
    static func prepare(
        service: ServiceConfig, config: Config, options: DANECheckOptions, query: DNSQuery, currReported: Bool
    ) async -> (findings: [DANECheckReport.Finding], jobs: [Job]) {
        let chosen = config.checkEndpoints(for: service)
        guard !chosen.endpoints.isEmpty else { return ([], []) }
        let address = service.address
        func noCurr(_ message: String) -> [DANECheckReport.Finding] {
            currReported
                ? [] : [.init(service: address.description, code: "no_curr", status: .failed, message: message)]
        }
        let curr: Certificate
        do {
            guard
                let found = try DANECheck.firstCertificate(
                    CertsLayout.certificateFile(topdir: config.topdir, address: address, slot: .curr))
            else {
                return (
                    noCurr(
                        "no curr certificate (certs/\(address)/curr/cert.pem): nothing to check the servers against; "
                            + "run sslm apply"), []
                )
            }
            curr = found
        } catch {
            return (noCurr("curr certificate unreadable: \(error)"), [])
        }
        let next = try? DANECheck.firstCertificate(
            CertsLayout.certificateFile(topdir: config.topdir, address: address, slot: .next))
        let chainPath = CertsLayout.serviceDirectory(topdir: config.topdir, address: address) + "/curr/chain.pem"
        let caChain = (try? CertificatePEM.read(path: chainPath)) ?? []
        let source: String
        switch chosen.source {
        case .configured: source = "check_endpoints"
        case .webDefault(let reason): source = "web service (\(reason)): SANs on 443"
        case .none: source = "none"
        }
        let needsLookup = chosen.endpoints.contains { !$0.hostIsAddress && options.connect[$0.host] == nil }
        var dns: Result<NameserverAddress, SSLMError>?
        if needsLookup {
            dns = await lookupServer(group: address.group, config: config, options: options, query: query)
        }
        let jobs = chosen.endpoints.map { endpoint in
            Job(
                service: service, endpoint: endpoint, source: source, curr: curr, next: next, caChain: caChain,
                dns: dns)
        }
        return ([], jobs)
    }

    /// `--resolver`, else the group's `[[dns_primary]]` as an address (a host name resolved at the pinned
    /// servers, as the DANE check does).
    static func lookupServer(group: String, config: Config, options: DANECheckOptions, query: DNSQuery) async
        -> Result<NameserverAddress, SSLMError>
    {
        guard let configured = options.resolver ?? config.dnsPrimary(for: group)?.server else {
            return .failure(
                SSLMError(
                    .invalidArgument,
                    "no --resolver and no [[dns_primary]] for \(group) to look its address up at"))
        }
        switch await ConcurrentMap.offPool({ NameserverResolution(query: query).resolve(configured, config: config) }) {
        case .success(let addresses):
            guard let first = addresses.first else {
                return .failure(SSLMError(.ioFailure, "the DNS server \(configured.host) for \(group) has no address"))
            }
            return .success(first)
        case .failure(let error):
            return .failure(SSLMError(.ioFailure, "the DNS server for \(group): \(error.message)"))
        }
    }

    /// Probes one endpoint and judges what it serves.
    static func check(_ job: Job, options: DANECheckOptions, probe: any TLSProbe, query: DNSQuery) async
        -> DANECheckReport.TLSEndpoint
    {
        let host = job.endpoint.host
        let port = job.endpoint.port
        let startTLS: String? =
            job.endpoint.startTLS.map { $0 == "none" ? nil : $0 } ?? options.startTLSProtocol(port: port)
        var result = DANECheckReport.TLSEndpoint(
            service: job.service.address.description, host: host, port: port, source: job.source, connect: nil,
            startTLS: startTLS, served: nil, verified: nil, anchor: nil, daysLeft: nil, status: .ok, problems: [],
            warnings: [])
        let place = "\(host) port \(port)"

        // 1. Where to connect.
        var target = options.connect[host]
        if target == nil, job.endpoint.hostIsAddress { target = NameserverAddress(host: host, port: port) }
        if target == nil {
            switch job.dns {
            case .none:
                result.problems.append("\(place): nowhere to connect (give --connect \(host)=ADDR:PORT)")
            case .failure(let error)?:
                result.problems.append(
                    "cannot look up \(host): \(error.message) (or give --connect \(host)=ADDR:PORT)")
            case .success(let server)?:
                switch await ConcurrentMap.offPool({ query.addresses(host, at: server) }) {
                case .success(let addresses):
                    if let first = addresses.first {
                        target = NameserverAddress(host: first, port: port)
                    } else {
                        result.problems.append(
                            "\(host) has no A or AAAA record at \(server): nowhere to connect "
                                + "(or give --connect \(host)=ADDR:PORT)")
                    }
                case .failure(let error):
                    result.problems.append("cannot find where to connect for \(host): \(error.message)")
                }
            }
        }
        guard let target else { return finish(result) }
        result.connect = target.description

        // 2. The served chain.
        let chain: [Certificate]
        switch await probe.servedChain(
            connect: target, serverName: host, startTLS: startTLS, timeoutSeconds: options.timeoutSeconds)
        {
        case .failure(let error):
            result.problems.append("\(place): \(error.message)")
            return finish(result)
        case .success(let served): chain = served
        }
        guard let leaf = chain.first, let served = ServedLeaf.describe(chain: chain, curr: job.curr, next: job.next)
        else { return finish(result) }
        result.served = served

        // 3. Is it sslm's curr?
        if let problem = ServedLeaf.problem(served, curr: job.curr, place: place, target: target) {
            result.problems.append(problem)
        }

        // 4. Does the served chain verify (to the service's trust anchor, for this host name)?
        let verification = await ChainVerifier.verifyServed(
            chain: chain, caChain: job.caChain, host: host, now: options.now)
        result.verified = verification.verified
        result.anchor = verification.anchor
        if let failure = verification.failure {
            result.problems.append(
                "\(place) (\(target)): the served chain does not verify (trust anchor: \(verification.anchor), "
                    + "host \(host)): \(failure)")
        }

        // 5. How long it has left.
        if let leafFacts = try? CertificateFacts(leaf) {
            let assessment = RenewalAssessment(
                certificate: leafFacts, renewInfo: job.service.renewInfo, now: options.now)
            result.daysLeft = (assessment.daysLeft * 10).rounded() / 10
            if assessment.daysLeft <= 0 {
                result.problems.append(
                    "\(place) (\(target)) serves a certificate that expired on \(Timestamps.rfc3339(leafFacts.notAfter))"
                )
            } else if assessment.isDue {
                result.warnings.append(
                    "\(place) serves a certificate within its renewal window: \(assessment.sentence)")
            }
        }
        return finish(result)
    }

    static func finish(_ endpoint: DANECheckReport.TLSEndpoint) -> DANECheckReport.TLSEndpoint {
        var endpoint = endpoint
        endpoint.status = !endpoint.problems.isEmpty ? .failed : (!endpoint.warnings.isEmpty ? .warning : .ok)
        return endpoint
    }
}
