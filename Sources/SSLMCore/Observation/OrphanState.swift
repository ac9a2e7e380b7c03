/// A `certs/<group>/<service>` directory that no config file describes any more: its service was removed
/// from `conf.d/`, or its whole group was (`groupRemoved`). What `sslm plan` notes and `sslm apply --retire`
/// (or `retire_orphans = true`) retires: production copy removed, TLSA records withdrawn, the directory
/// archived under `certs/.retired/<group>/<service>/<time>/` (never deleted).
///
/// Guarantees: observed from the disk only (the observer reads, never writes); holds no key material (the
/// certificate is described by its facts). Not a statement about remote servers: their copies are not
/// observed.
public struct OrphanState: Sendable, Hashable, Codable {
    public var address: ServiceAddress
    /// Whether the group itself is no longer configured (no group file, no service of it in the config).
    public var groupRemoved: Bool
    /// Whether `<prod_cert_dir>/<group>/<service>` exists.
    public var production: Bool
    /// The certificate `curr` points to, when it can be read (to revoke it, or to say why not).
    public var curr: CertificateFacts?
    /// Whether curr was issued by one of the configured local CAs (revocation does not apply).
    public var currIssuedLocally: Bool

    public init(
        address: ServiceAddress, groupRemoved: Bool, production: Bool, curr: CertificateFacts?,
        currIssuedLocally: Bool
    ) {
        self.address = address
        self.groupRemoved = groupRemoved
        self.production = production
        self.curr = curr
        self.currIssuedLocally = currIssuedLocally
    }
}
