import Foundation
import SSLMConfig
import SSLMCore
import SSLMDNS
import SSLMTestSupport
import Testing

/// Which pinned servers a host name is resolved at, and the error without any: no network needed.
@Suite("host names of name servers: resolved only through configured servers")
struct NameserverResolutionTests {
    /// A valid topdir whose `[[dns_primary]]` entries are `primaries` and whose `dns_xtra_ns` is `extra`.
    static func topdir(primaries: String, extra: String = "[]") throws -> ScratchTopdir {
        var main = ScratchTopdir.mainConf(groups: ["ca": ["root"]])
            .replacingOccurrences(of: "dns_xtra_ns = []", with: "dns_xtra_ns = \(extra)")
        let block = "[[dns_primary]]\ndomain = 'default'\nserver = '127.0.0.1'\nport = 5053"
        main = main.replacingOccurrences(of: block, with: primaries)
        let topdir = try ScratchTopdir()
        try topdir.writeConf([
            "ssl-mgr.conf": main, "ca-info.conf": ScratchTopdir.localCAInfo(intermediate: false),
            "ca/root": ScratchTopdir.rootCAConf(),
        ])
        return topdir
    }

    @Test("order: the zone's primary, the default primary, the zone's nameservers, dns_xtra_ns; host names left out")
    func order() throws {
        let topdir = try Self.topdir(
            primaries: """
                [[dns_primary]]
                domain = 'default'
                server = '10.0.0.9'

                [[dns_primary]]
                domain = 'example.com'
                server = '10.0.0.1:5353'

                [[dns_primary]]
                domain = 'sub.example.com'
                server = '10.0.0.2'

                [[dns_primary]]
                domain = 'example.net'
                server = 'ns.example.org'

                [[dns_nameservers]]
                domain = 'sub.example.com'
                servers = ['10.0.0.3', 'ns9.example.com']
                """,
            extra: "['10.0.0.4', 'resolver.example.org']")
        let loaded = ConfigLoader.load(topdir: topdir.path)
        let config = try #require(loaded.config, "\(loaded.diagnostics)")
        #expect(
            NameserverResolution.resolvers(for: "ns1.sub.example.com", config: config).map(\.description) == [
                "10.0.0.2:53", "10.0.0.1:5353", "10.0.0.9:53", "10.0.0.3:53", "10.0.0.4:53",
            ])
        #expect(
            NameserverResolution.resolvers(for: "ns1.example.net", config: config).map(\.description) == [
                "10.0.0.9:53", "10.0.0.4:53",
            ])
        let literal = NameserverAddress(host: "192.0.2.1", port: 53)
        #expect(try NameserverResolution().resolve(literal, resolvers: []).get() == [literal])
    }

    @Test("a host name with no configured server to ask is a clear error, naming the name")
    func noResolver() throws {
        let topdir = try Self.topdir(
            primaries: "[[dns_primary]]\ndomain = 'default'\nserver = 'ns1.example.com'\nport = 5053")
        let config = try #require(ConfigLoader.load(topdir: topdir.path).config)
        #expect(NameserverResolution.resolvers(for: "ns1.example.com", config: config).isEmpty)
        guard
            case .failure(let error) = NameserverResolution().resolve(
                try #require(config.dnsPrimaries.first?.server), config: config)
        else {
            Issue.record("resolved without a server to ask")
            return
        }
        #expect(error.message.contains("ns1.example.com") && error.message.contains("host name"))
        #expect(error.message.contains("/etc/resolv.conf"))
        #expect(throws: PropagationError.self) { try PropagationTarget(apex: "example.com", config: config) }
    }
}
