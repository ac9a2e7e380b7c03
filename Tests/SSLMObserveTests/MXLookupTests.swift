import Foundation
import SSLMConfig
import SSLMCore
import SSLMDNS
import SSLMObserve
import SSLMTestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A real authoritative server: nsd in the foreground on 127.0.0.1 and a random high port, serving
/// example.com with MX records of equal preference. Started and stopped by the test.
final class LocalNSD {
    static let binary = "/usr/sbin/nsd"
    static var available: Bool { FileManager.default.isExecutableFile(atPath: binary) }

    let directory: String
    let port: Int
    private let pid: pid_t

    static let zone = """
        $ORIGIN example.com.
        $TTL 300
        @       IN SOA ns1.example.com. hostmaster.example.com. 1 3600 900 604800 300
        @       IN NS  ns1.example.com.
        @       IN MX  10 mx1.example.com.
        @       IN MX  10 MX2.Example.COM.
        @       IN MX  20 mx3.example.com.
        ns1     IN A   127.0.0.1
        nodata  IN A   127.0.0.1

        """

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("sslm-nsd-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try Self.zone.write(toFile: directory + "/example.com.zone", atomically: true, encoding: .utf8)
        var lastError = "nsd did not start"
        for _ in 0..<5 {
            let port = Int.random(in: 20_000...60_000)
            let config = """
                server:
                    ip-address: 127.0.0.1@\(port)
                    port: \(port)
                    do-ip6: no
                    username: ""
                    chroot: ""
                    zonesdir: "\(directory)"
                    database: ""
                    zonelistfile: "\(directory)/zone.list"
                    pidfile: "\(directory)/nsd.pid"
                    xfrdfile: "\(directory)/xfrd.state"
                    xfrdir: "\(directory)"
                    logfile: "\(directory)/nsd.log"
                    server-count: 1
                    verbosity: 1
                remote-control:
                    control-enable: no
                zone:
                    name: example.com
                    zonefile: example.com.zone

                """
            try config.write(toFile: directory + "/nsd.conf", atomically: true, encoding: .utf8)
            let pid = try Self.spawn([Self.binary, "-d", "-c", directory + "/nsd.conf"])
            // Ready when it answers.
            let probe = MXLookup(timeoutSeconds: 0.2, retries: 0)
            let server = NameserverAddress(host: "127.0.0.1", port: port)
            for _ in 0..<50 where Self.isRunning(pid) {
                if case .success = probe.mxHosts(apex: "example.com", server: server) {
                    self.port = port
                    self.pid = pid
                    return
                }
                usleep(100_000)
            }
            Self.stop(pid)
            lastError = (try? String(contentsOfFile: directory + "/nsd.log", encoding: .utf8)) ?? lastError
        }
        try? FileManager.default.removeItem(atPath: directory)
        throw SSLMError(.ioFailure, "cannot start nsd: \(lastError)")
    }

    var server: NameserverAddress { NameserverAddress(host: "127.0.0.1", port: port) }

    deinit {
        Self.stop(pid)
        try? FileManager.default.removeItem(atPath: directory)
    }

    private static func spawn(_ arguments: [String]) throws -> pid_t { try ScriptRunner.spawnDaemon(arguments) }
    private static func isRunning(_ pid: pid_t) -> Bool { ScriptRunner.isRunning(pid) }
    private static func stop(_ pid: pid_t) { ScriptRunner.stop(pid) }
}

@Suite("MX lookup (libldns, pinned servers)")
struct MXLookupTests {
    @Test("a closed port is a failure, not an empty list")
    func closed() {
        let lookup = MXLookup(timeoutSeconds: 0.3, retries: 1)
        let result = lookup.mxHosts(
            apex: "example.com", server: NameserverAddress(host: "127.0.0.1", port: LoopbackPorts.unusedUDP()))
        guard case .failure(let error) = result else {
            Issue.record("expected a failure, got \(result)")
            return
        }
        #expect(error.kind == .network)
        #expect(error.message.contains("127.0.0.1"))
    }

    @Test("a host name as server is refused without any query")
    func hostName() {
        let result = MXLookup().mxHosts(apex: "example.com", server: NameserverAddress(host: "ns1.example.com"))
        guard case .failure(let error) = result else {
            Issue.record("expected a failure")
            return
        }
        #expect(error.kind == .badServer)
    }

    @Test(
        "nsd: all MX hosts, equal preferences included; NODATA and NXDOMAIN are empty; REFUSED fails",
        .enabled(if: TestTier.full, "starts nsd: not in make check"),
        .enabled(if: LocalNSD.available, "nsd is not installed (scripts/install-deps test)"))
    func realServer() throws {
        let nsd = try LocalNSD()
        let lookup = MXLookup(timeoutSeconds: 1, retries: 1)
        #expect(
            try lookup.mxHosts(apex: "example.com", server: nsd.server).get()
                == ["mx1.example.com", "mx2.example.com", "mx3.example.com"])
        #expect(try lookup.mxHosts(apex: "Example.COM.", server: nsd.server).get().count == 3)
        #expect(try lookup.mxHosts(apex: "nodata.example.com", server: nsd.server).get() == [])
        #expect(try lookup.mxHosts(apex: "missing.example.com", server: nsd.server).get() == [])
        guard case .failure(let error) = lookup.mxHosts(apex: "example.org", server: nsd.server) else {
            Issue.record("a zone nsd does not serve must fail (REFUSED)")
            return
        }
        #expect(error.kind == .serverError)
        #expect(error.message.contains("REFUSED"))
    }

    @Test(
        "gatherer + observer: MX hosts from nsd become TLSA owners",
        .enabled(if: TestTier.full, "starts nsd: not in make check"),
        .enabled(if: LocalNSD.available, "nsd is not installed (scripts/install-deps test)"))
    func gatherAndObserve() throws {
        let nsd = try LocalNSD()
        let f = try ObserveFixture(conf: conf(primary: "server = '127.0.0.1'\nport = \(nsd.port)"))
        try f.makeDBDir(ObserveFixture.mail, ts1)
        try f.link(ObserveFixture.mail, "curr", ts1)
        let config = try f.config()
        let facts = DNSFactsGatherer.gather(config: config, apexes: ["example.com", "ca", "example.net"])
        #expect(
            facts == [
                DNSFacts(
                    apex: "example.com", mxHosts: ["mx1.example.com", "mx2.example.com", "mx3.example.com"],
                    failure: nil)
            ])
        let built = TLSAFileBuilder.build(
            apex: "example.com", config: config, dns: facts.first, existingFile: nil, rolling: false)
        for host in ["mx1", "mx2", "mx3"] { #expect(built.content?.contains("_25._tcp.\(host).example.com.") == true) }
    }

    @Test("gatherer: a host-name primary and a dead primary are failures with reasons")
    func gatherFailures() throws {
        let named = try ObserveFixture(conf: conf(primary: "server = 'ns1.example.com'"))
        let namedFacts = DNSFactsGatherer.gather(config: try named.config(), apexes: ["example.com"])
        #expect(namedFacts.count == 1 && namedFacts.first?.mxHosts == nil)
        #expect(namedFacts.first?.failure?.contains("host name") == true)

        let dead = try ObserveFixture(conf: conf(primary: "server = '127.0.0.1'\nport = \(LoopbackPorts.unusedUDP())"))
        let deadFacts = DNSFactsGatherer.gather(
            config: try dead.config(), apexes: ["example.com"], lookup: MXLookup(timeoutSeconds: 0.3, retries: 0))
        #expect(deadFacts.count == 1 && deadFacts.first?.mxHosts == nil && deadFacts.first?.failure != nil)
    }

    private func conf(primary: String) -> [String: String] {
        var files = ObserveFixture.confFiles
        files["ssl-mgr.conf"] = files["ssl-mgr.conf"]?.replacingOccurrences(
            of: "server = '127.0.0.1'\nport = 5053", with: primary)
        return files
    }
}
