/// A server table (`[smtp]`, `[imap]`, `[web]`, `[other]` or any user-named one such as `[ldap]`): hosts
/// that get a copy of production and are restarted when what they depend on changed.
public struct ServerSection: Sendable, Hashable {
    /// One `svc_depends` pair: restart when one of `services` of `domain` changed (`any`/`all`/`*` = every group).
    public struct ServiceDependency: Sendable, Hashable {
        public var domain: String
        public var services: [String]
        public var matchesEveryGroup: Bool { ["any", "all", "*"].contains(domain.lowercased()) }
    }

    /// The table name.
    public var name: String
    public var servers: [String] = []
    /// Commands as argv lists (each config string split on white space), run in order.
    public var restartCommands: [[String]] = []
    /// Every pair counts (ssl-mgr kept only the last).
    public var serviceDependencies: [ServiceDependency] = []
    public var depends: Set<ChangeToken> = []
    /// `[web]`: root of http-01 tokens, `<server_dir>/<apex>/.well-known/acme-challenge/<token>`.
    public var serverDir: String?
    public var skipProdCopy: Bool = false
    /// Timeout of each restart command, in seconds.
    public var restartTimeoutSeconds: Int = Self.defaultRestartTimeoutSeconds

    public static let standardNames = ["smtp", "imap", "web", "other"]
    public static let defaultRestartTimeoutSeconds = 120
}
