/// The ACME challenge type a CA validates with (`ca_validation`): written `http-01` or `dns-01` in the
/// config, in plan ids and in plan parameters.
public enum ACMEChallengeType: String, Sendable, Hashable, Codable, CaseIterable {
    case http01 = "http-01"
    case dns01 = "dns-01"
}
