import SSLMConfig
import SSLMCore

/// Turns a configured name server — `[[dns_primary]] server`, `[[dns_nameservers]]`, `dns_xtra_ns`: an IP
/// literal or a host name — into addresses to query, asking only pinned servers from the configuration,
/// never /etc/resolv.conf.
///
/// For a host name the servers asked, in order (`resolvers(for:config:)`), are the IP-literal ones the
/// configuration already names: the `[[dns_primary]]` of the zone the name is in (the entry whose domain is
/// the longest suffix of the name), the default primary, that zone's `[[dns_nameservers]]`, then
/// `dns_xtra_ns` (typically recursive resolvers). The first that answers with addresses wins; a name none of
/// them resolves is a `DNSLookupError` naming the servers asked. Blocking (one A and one AAAA query per
/// server asked); IP literals cost nothing.
public struct NameserverResolution: Sendable {
    public var query: DNSQuery

    public init(query: DNSQuery = DNSQuery()) {
        self.query = query
    }

    /// The IP-literal servers to ask for `host`'s addresses, in the order of the type's documentation,
    /// without repeats.
    public static func resolvers(for host: String, config: Config) -> [NameserverAddress] {
        let name = PinnedResolver.normalised(host) ?? host
        func isLiteral(_ server: NameserverAddress) -> Bool {
            HostName.isIPv4(server.host) || HostName.isIPv6(server.host)
        }
        let owning = config.dnsPrimaries.filter { primary in
            !primary.isDefault && (name == primary.domain || name.hasSuffix("." + primary.domain))
        }
        .sorted { $0.domain.count > $1.domain.count }
        var list = owning.map(\.server)
        if let fallback = config.dnsPrimaries.last(where: \.isDefault) { list.append(fallback.server) }
        let zone = owning.first?.domain ?? name
        list += config.dnsNameservers(for: zone) ?? []
        list += config.globals.dnsExtraNameservers
        var unique: [NameserverAddress] = []
        for server in list where isLiteral(server) && !unique.contains(server) { unique.append(server) }
        return unique
    }

    /// `server` itself when it is an IP literal; else the addresses of its host name (IPv4 first), each with
    /// `server`'s port, as the first of `resolvers` that knows any serves them.
    public func resolve(_ server: NameserverAddress, resolvers: [NameserverAddress])
        -> Result<[NameserverAddress], DNSLookupError>
    {
        if HostName.isIPv4(server.host) || HostName.isIPv6(server.host) { return .success([server]) }
        let host = SafeName.printable(server.host)
        guard !resolvers.isEmpty else {
            return .failure(
                DNSLookupError(
                    .badServer,
                    "name server \(host) (port \(server.port)) is given as a host name and no configured server can "
                        + "resolve it: give its IP address, or an IP-address [[dns_primary]] or dns_xtra_ns entry "
                        + "to resolve it with (sslm never uses /etc/resolv.conf)"))
        }
        var problems: [String] = []
        for resolver in resolvers {
            switch query.addresses(server.host, at: resolver) {
            case .success(let addresses) where !addresses.isEmpty:
                return .success(addresses.map { NameserverAddress(host: $0, port: server.port) })
            case .success:
                problems.append("no A or AAAA record at \(resolver)")
            case .failure(let error):
                problems.append(error.message)
            }
        }
        return .failure(
            DNSLookupError(
                .badServer,
                "the host name \(host) of a configured name server does not resolve: "
                    + problems.joined(separator: "; ") + "; give its IP address or fix its A/AAAA records"))
    }

    /// `resolve(_:resolvers:)` with `resolvers(for:config:)`.
    public func resolve(_ server: NameserverAddress, config: Config) -> Result<[NameserverAddress], DNSLookupError> {
        if HostName.isIPv4(server.host) || HostName.isIPv6(server.host) { return .success([server]) }
        return resolve(server, resolvers: Self.resolvers(for: server.host, config: config))
    }
}
