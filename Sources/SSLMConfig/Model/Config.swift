import SSLMCore

/// The whole, validated configuration of one topdir: `conf.d/ssl-mgr.conf`, `conf.d/ca-info.conf` and
/// every service file of the configured groups (and of the local CAs they use).
///
/// A `Config` is only produced when loading found no errors; it is a value (no file handles, no
/// references to the TOML document). Paths in it are absolute (relative ones were resolved against the
/// topdir). It never contains private key material; the one secret it can hold (an EAB HMAC key) is a
/// `Secret` that does not print.
public struct Config: Sendable {
    /// Absolute topdir (the directory that contains `conf.d`).
    public var topdir: String
    public var globals: Globals
    public var renewInfo: RenewInfo
    /// `[[groups]]` in config order, with `services = '*'` already expanded.
    public var groups: [GroupConfig]
    public var dnsPrimaries: [DNSPrimary]
    public var dnsNameservers: [DNSNameserverSet]
    public var dns: DNSSettings
    /// `[smtp]`, `[imap]`, `[web]`, `[other]` in that order, then any other server table by name.
    public var servers: [ServerSection]
    /// `[hooks]`: programs run after `sslm apply`.
    public var hooks = HookSettings()
    /// `[notify]`: mail when a run needs a person.
    public var notify = NotifySettings()
    /// `ca-info.conf` tables by CA name.
    public var certificateAuthorities: [String: CertificateAuthority]
    /// Every loaded service: those of the groups, and the CA services local CAs need.
    public var services: [ServiceAddress: ServiceConfig]
    /// `sha256:…` over every config file read (path and content), for plans.
    public var digest: String

    public var confDirectory: String { topdir + "/conf.d" }

    /// The services of the active groups, in config order — what a run without targets acts on.
    public var activeServices: [ServiceAddress] {
        groups.filter(\.active).flatMap { group in
            group.services.map { ServiceAddress(group: group.domain, service: $0) }
        }
    }

    public func service(_ address: ServiceAddress) -> ServiceConfig? { services[address] }

    /// The `[[dns_primary]]` entry for an apex: the entry naming it, else the last `default`/`*` entry.
    public func dnsPrimary(for apex: String) -> DNSPrimary? {
        let apex = apex.lowercased()
        if let exact = dnsPrimaries.first(where: { $0.domain == apex }) { return exact }
        return dnsPrimaries.last(where: \.isDefault)
    }

    /// The `[[dns_nameservers]]` servers for an apex (exact match, else `default`), or nil when the
    /// authoritative servers are to be discovered from NS records.
    public func dnsNameservers(for apex: String) -> [NameserverAddress]? {
        let apex = apex.lowercased()
        if let exact = dnsNameservers.first(where: { $0.domain == apex }) { return exact.servers }
        return dnsNameservers.last(where: \.isDefault)?.servers
    }

    /// The `[web]` section, which holds `server_dir` for http-01.
    public var web: ServerSection? { servers.first { $0.name == "web" } }
}
