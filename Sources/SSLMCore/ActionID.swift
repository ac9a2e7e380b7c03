/// The id of a plan action, and the single owner of the id grammar: the planner renders ids with it, and
/// the executor, the journal readers and the views parse them with it. No other code splits, prefix- or
/// suffix-matches an id.
///
/// The grammar (every variable part is a `SafeName`, so none contains `/`):
///
/// | id                                   | case                  |
/// |--------------------------------------|-----------------------|
/// | `<group>/<service>/<step>`           | `service`             |
/// | `<apex>/tlsa`                        | `apexTLSA`            |
/// | `<apex>/tlsa/publish`                | `apexTLSAPublish`     |
/// | `<apex>/prod`                        | `apexProduction`      |
/// | `<apex>/acme/<type>/<batch step>`    | `acmeBatch`           |
/// | `acme/dns-01/refresh`                | `acmeChallengeRefresh`|
/// | `acme/dns-01/refresh-cleared`        | `acmeClearedRefresh`  |
/// | `server/<host>/copy`                 | `copyToServer`        |
/// | `post_copy/<host>`                   | `postCopy`            |
/// | `restart/<section>/<host>`           | `restart`             |
/// | `dns/refresh`                        | `dnsRefresh`          |
///
/// The run-wide forms (`server/…`, `restart/…`, `post_copy/…`, `dns/…`, `acme/…`) are recognised first, so
/// a group named `server`, `restart`, `post_copy`, `dns` or `acme` (never a domain) would be misread.
public enum ActionID: Hashable, Sendable, CustomStringConvertible {
    case service(ServiceAddress, ServiceStep)
    case apexTLSA(apex: String)
    case apexTLSAPublish(apex: String)
    case apexProduction(apex: String)
    case acmeBatch(apex: String, ACMEChallengeType, ACMEBatchStep)
    /// The one DNS refresh after every dns-01 challenge of the run is published.
    case acmeChallengeRefresh
    /// The DNS refresh after the dns-01 challenges are removed again.
    case acmeClearedRefresh
    case copyToServer(host: String)
    case postCopy(host: String)
    case restart(section: String, host: String)
    case dnsRefresh

    /// The step of a service action: the part of its id after `<group>/<service>/`.
    public enum ServiceStep: String, Sendable, Hashable, CaseIterable {
        case nextDirectory = "next/dir"
        case nextKey = "next/key"
        case nextRequest = "next/csr"
        case nextOrder = "next/order"
        case nextAnswer = "next/answer"
        case nextCertificate = "next/cert"
        case nextBundle = "next/bundle"
        case nextTLSA = "next/tlsa"
        case currRepair = "curr/repair"
        case nextRepair = "next/repair"
        case roll
        case production = "prod"
        case clean
        /// Retiring a service that left the config (`retire_service`).
        case retire
    }

    /// The step of an apex's ACME challenge batch.
    public enum ACMEBatchStep: String, Sendable, Hashable, CaseIterable {
        case publish
        case await
        case clear
    }

    /// Parses an id; nil when `text` is not in the grammar.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.allSatisfy(SafeName.isSafe) else { return nil }
        switch (parts.count, parts[0]) {
        case (2, "dns") where parts[1] == "refresh": self = .dnsRefresh
        case (3, "acme") where parts[1] == ACMEChallengeType.dns01.rawValue && parts[2] == "refresh":
            self = .acmeChallengeRefresh
        case (3, "acme") where parts[1] == ACMEChallengeType.dns01.rawValue && parts[2] == "refresh-cleared":
            self = .acmeClearedRefresh
        case (3, "server") where parts[2] == "copy": self = .copyToServer(host: parts[1])
        case (2, "post_copy"): self = .postCopy(host: parts[1])
        case (3, "restart"): self = .restart(section: parts[1], host: parts[2])
        case (2, _) where parts[1] == "tlsa": self = .apexTLSA(apex: parts[0])
        case (2, _) where parts[1] == "prod": self = .apexProduction(apex: parts[0])
        case (3, _) where parts[1] == "tlsa" && parts[2] == "publish": self = .apexTLSAPublish(apex: parts[0])
        case (4, _) where ACMEChallengeType(rawValue: parts[2]) != nil:
            // `<apex>/acme/<type>/<step>`; a service may be called `acme` (`<g>/acme/next/order`).
            guard parts[1] == "acme", let type = ACMEChallengeType(rawValue: parts[2]),
                let step = ACMEBatchStep(rawValue: parts[3])
            else { return nil }
            self = .acmeBatch(apex: parts[0], type, step)
        case (3...4, _):
            guard let step = ServiceStep(rawValue: parts[2...].joined(separator: "/")) else { return nil }
            self = .service(ServiceAddress(group: parts[0], service: parts[1]), step)
        default: return nil
        }
    }

    public var description: String {
        switch self {
        case .service(let address, let step): "\(address)/\(step.rawValue)"
        case .apexTLSA(let apex): "\(apex)/tlsa"
        case .apexTLSAPublish(let apex): "\(apex)/tlsa/publish"
        case .apexProduction(let apex): "\(apex)/prod"
        case .acmeBatch(let apex, let type, let step): "\(apex)/acme/\(type.rawValue)/\(step.rawValue)"
        case .acmeChallengeRefresh: "acme/dns-01/refresh"
        case .acmeClearedRefresh: "acme/dns-01/refresh-cleared"
        case .copyToServer(let host): "server/\(host)/copy"
        case .postCopy(let host): "post_copy/\(host)"
        case .restart(let section, let host): "restart/\(section)/\(host)"
        case .dnsRefresh: "dns/refresh"
        }
    }

    /// The service of a service action.
    public var service: ServiceAddress? {
        if case .service(let address, _) = self { return address }
        return nil
    }

    /// The apex of an apex action (TLSA, its production copy, an ACME challenge batch).
    public var apex: String? {
        switch self {
        case .apexTLSA(let apex), .apexTLSAPublish(let apex), .apexProduction(let apex), .acmeBatch(let apex, _, _):
            apex
        default: nil
        }
    }

    /// The host of a deployment action (copy, `post_copy`, restart).
    public var host: String? {
        switch self {
        case .copyToServer(let host), .postCopy(let host), .restart(_, let host): host
        default: nil
        }
    }

    /// Whether this is a service's `acme_order`, whose journal detail a later run resumes the order from.
    public var isACMEOrder: Bool {
        if case .service(_, .nextOrder) = self { return true }
        return false
    }

    /// Deployment actions (copy to a server, post_copy_cmd, restart, DNS refresh) leave nothing on disk to
    /// observe: their last journal record is their state (`PendingDeployment`), and journal compaction
    /// keeps it.
    public var journalIsState: Bool {
        switch self {
        case .copyToServer, .postCopy, .restart, .dnsRefresh: true
        default: false
        }
    }
}
