import SSLMConfig
import SSLMCore

/// What one propagation check waits for: the apex's primary serves every expected `_acme-challenge` TXT
/// value, then every authoritative name server (given, or discovered from the apex's NS records at the
/// primary) and every extra name server serves the primary's SOA serial or a newer one.
///
/// All servers are IP literals with ports (host names in the configuration are resolved when the target is
/// built); nothing is resolved through /etc/resolv.conf.
public struct PropagationTarget: Sendable, Hashable {
    /// The zone apex, e.g. `example.com`.
    public var apex: String
    /// The signing primary (`[[dns_primary]]`).
    public var primary: NameserverAddress
    /// The authoritative servers to check (`[[dns_nameservers]]`); nil = discover them: the apex's NS
    /// records asked at the primary, each name's A/AAAA asked at the primary, port 53.
    public var nameservers: [NameserverAddress]?
    /// Further servers that must catch up too (`dns_xtra_ns`).
    public var extraNameservers: [NameserverAddress]
    /// TXT values the primary must serve first; empty = only the serial check (e.g. after a TLSA change).
    public var expectedTXT: [ACMEChallengeRecord]

    public init(
        apex: String, primary: NameserverAddress, nameservers: [NameserverAddress]? = nil,
        extraNameservers: [NameserverAddress] = [], expectedTXT: [ACMEChallengeRecord] = []
    ) {
        self.apex = apex
        self.primary = primary
        self.nameservers = nameservers
        self.extraNameservers = extraNameservers
        self.expectedTXT = expectedTXT
    }

    /// The target for `apex` from the configuration: `[[dns_primary]]` (the apex entry, else `default`),
    /// `[[dns_nameservers]]` (apex, else `default`, else discovery) and `dns_xtra_ns`. Servers given as host
    /// names are resolved through `resolution` (pinned servers of the configuration, never /etc/resolv.conf;
    /// blocking, and only then): the primary's first address is used, every address of the others is checked.
    /// Fails (`.badTarget`) when there is no primary or a host name does not resolve.
    public init(
        apex: String, config: Config, expectedTXT: [ACMEChallengeRecord] = [],
        resolution: NameserverResolution = NameserverResolution()
    ) throws(PropagationError) {
        guard let primary = config.dnsPrimary(for: apex) else {
            throw PropagationError(
                .badTarget, "no [[dns_primary]] for \(apex) and no default entry; add one to ssl-mgr.conf")
        }
        func addresses(_ server: NameserverAddress) throws(PropagationError) -> [NameserverAddress] {
            switch resolution.resolve(server, config: config) {
            case .success(let found): return found
            case .failure(let error): throw PropagationError(.badTarget, "dns-01 checks of \(apex): \(error.message)")
            }
        }
        guard let primaryAddress = try addresses(primary.server).first else {
            throw PropagationError(.badTarget, "the [[dns_primary]] of \(apex) has no address")
        }
        var nameservers: [NameserverAddress]?
        if let given = resolveNameservers(for: apex, config: config) {
            var list: [NameserverAddress] = []
            for server in given { list += try addresses(server) }
            nameservers = list
        }
        var extra: [NameserverAddress] = []
        for server in config.globals.dnsExtraNameservers { extra += try addresses(server) }
        self.init(
            apex: apex, primary: primaryAddress, nameservers: nameservers, extraNameservers: extra,
            expectedTXT: expectedTXT)
    }
}

/// The `[[dns_nameservers]]` servers to check for `apex` (its own entry, else `default`), or nil when they
/// are to be discovered from NS records.
public func resolveNameservers(for apex: String, config: Config) -> [NameserverAddress]? {
    config.dnsNameservers(for: apex)
}
