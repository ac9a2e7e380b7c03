import SSLMCore

/// One `[[groups]]` entry: an apex domain (or `ca`) and its services.
public struct GroupConfig: Sendable, Hashable {
    /// The group name: an apex domain, or `ca` for local CAs.
    public var domain: String
    /// Service names in config order; for `services = '*'` or `'ALL'` the discovered files, sorted.
    public var services: [String]
    /// True when the config said `'*'`/`'ALL'`.
    public var discovered: Bool
    public var active: Bool

    /// The group of local CA certificates.
    public static let caGroup = ServiceAddress.caGroup
    public var isCAGroup: Bool { ServiceAddress.isCAGroup(domain) }
}
