import SSLMCore

/// One `[[dns_primary]]` entry: the primary (signing) server of an apex, or the default one, and how sslm
/// changes the zone's data there.
public struct DNSPrimary: Sendable, Hashable {
    /// Lowercased apex, or `default` (`*` is normalised to `default`).
    public var domain: String
    /// An IP literal or a host name (resolved at run time through pinned servers, never /etc/resolv.conf:
    /// SSLMDNS's `NameserverResolution`), with the port.
    public var server: NameserverAddress
    /// `update`: include files (default), RFC 2136 with a TSIG key, or an exec provider.
    public var update: DNSUpdateMethod = .include
    public var isDefault: Bool { domain == "default" }

    public init(domain: String, server: NameserverAddress, update: DNSUpdateMethod = .include) {
        self.domain = domain
        self.server = server
        self.update = update
    }
}

/// One `[[dns_nameservers]]` entry (sslm): the authoritative servers to check for an apex instead of
/// discovering them from NS records.
public struct DNSNameserverSet: Sendable, Hashable {
    public var domain: String
    public var servers: [NameserverAddress]
    public var isDefault: Bool { domain == "default" }
}

/// A change token that triggers restarts (`depends`): a certificate, a TLSA file, or DNS data changed.
public enum ChangeToken: String, Sendable, Hashable, CaseIterable, Codable {
    case cert
    case tlsa
    case dns
}

/// `[dns]`: how sslm publishes zone data (include files + a refresh command).
public struct DNSSettings: Sendable, Hashable {
    /// Refresh commands as argv lists; each is run as `argv… --serial_bump <changed apex domains>`.
    public var restartCommands: [[String]] = []
    /// Directories receiving `acme-challenge.<apex>` (dns-01).
    public var acmeDirs: [String] = []
    /// Directories receiving `tlsa.<apex>`.
    public var tlsaDirs: [String] = []
    public var depends: Set<ChangeToken> = []
    /// `dane_connect` (sslm): host name (lowercase) → where its DANE endpoints are probed before an old
    /// key's TLSA records are withdrawn, instead of the host's address at the DNS primary and the DANE port
    /// (split setups, tests). As `sslm check --connect`.
    public var daneConnect: [String: NameserverAddress] = [:]
    /// `dane_unreachable_holds` (sslm): whether a DANE endpoint that cannot be probed keeps the old key's
    /// records published (default false: it is reported and does not hold the withdrawal).
    public var daneUnreachableHolds = false

    public init() {}
}
