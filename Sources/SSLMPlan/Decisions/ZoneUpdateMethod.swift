import SSLMConfig
import SSLMCore

/// How the records of a zone reach DNS, as the planner needs it: include files plus `[dns] restart_cmd`
/// (`include`), or sent by the executor itself (`rfc2136`, `exec`), which needs no refresh. The plan tells
/// which in the reasons of `publish_challenges` and `publish_tlsa` (never a key's secret: its name only).
enum ZoneUpdateMethod {
    /// The `update` of the zone's `[[dns_primary]]` (its own entry, else `default`); `include` without one.
    static func of(_ zone: String, config: Config) -> DNSUpdateMethod {
        config.dnsPrimary(for: zone)?.update ?? .include
    }

    /// Whether the zone is changed through include files and `[dns] restart_cmd`.
    static func usesIncludeFiles(_ zone: String, config: Config) -> Bool {
        of(zone, config: config) == .include
    }

    /// `by one RFC 2136 UPDATE to 127.0.0.1:53 (TSIG key "k")` or `by one call of the DNS provider
    /// /usr/local/bin/hook`; nil for include files.
    static func phrase(_ zone: String, config: Config) -> String? {
        guard let primary = config.dnsPrimary(for: zone) else { return nil }
        switch primary.update {
        case .include: return nil
        case .rfc2136(let key):
            return "by one RFC 2136 UPDATE (method rfc2136) to \(primary.server) with TSIG key \"\(key.name)\""
        case .exec(let argv):
            return "by one call of the DNS provider \(argv.first ?? "") (method exec)"
        }
    }
}
