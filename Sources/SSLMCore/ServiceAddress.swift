/// A managed certificate's address: the group (an apex domain, or `ca` for local CAs) and the service
/// (a file name in `conf.d/<group>/`). Written `group/service` in plans and `group:service` on the
/// command line. Both parts are validated safe file names.
public struct ServiceAddress: Hashable, Sendable, Comparable, Codable, CustomStringConvertible {
    public let group: String
    public let service: String

    public init(group: String, service: String) {
        self.group = group
        self.service = service
    }

    public var description: String { "\(group)/\(service)" }

    /// The group of local CA certificates (`ca`).
    public static let caGroup = "ca"

    /// Whether `group` names the local CAs' group (compared case-insensitively, as ssl-mgr does).
    public static func isCAGroup(_ group: String) -> Bool { group.lowercased() == caGroup }

    /// Whether this is a local CA (a service of the `ca` group).
    public var isCertificateAuthority: Bool { Self.isCAGroup(group) }

    public static func < (lhs: ServiceAddress, rhs: ServiceAddress) -> Bool {
        (lhs.group, lhs.service) < (rhs.group, rhs.service)
    }
}

extension ServiceAddress {
    /// Reads `group/service` as plans write it; nil unless both parts are safe names.
    public init?(planText text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2, SafeName.isSafe(parts[0]), SafeName.isSafe(parts[1]) else { return nil }
        self.init(group: parts[0], service: parts[1])
    }
}
