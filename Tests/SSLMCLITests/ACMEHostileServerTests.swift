import Foundation
import SSLMTestSupport
import Testing

/// `sslm apply` against a hostile ACME server. The server is a stand-in (`scripts/testbed/acme-standin.py`,
/// which does not check signatures): pebble never misbehaves like this. Each case must fail with a clear
/// error, write nothing outside the topdir, and leave no certificate in `next` or production.
@Suite(.serialized, .enabled(if: TestTier.full, "starts the ACME stand-in: not in make check"))
struct ACMEHostileServerTests {
    /// A topdir with one http-01 service of the stand-in CA; its web root lives inside `outside`.
    static func topdir(for server: StandInServer, outside: String) throws -> String {
        let topdir = outside + "/topdir"
        try ScratchTopdir.makeDirectory(outside + "/webroot", parents: true)
        let main = """
            [globals]
                prod_cert_dir = '\(topdir)/prod'
                logdir = '\(topdir)/logs'
                min_roll_mins = 0
                dns_xtra_ns = []
            [[groups]]
                domain = 'example.com'
                services = ['web']
                active = true
            [web]
                servers = []
                server_dir = '\(outside)/webroot'

            """
        let caInfo = """
            [standin]
                ca_desc = 'a stand-in ACME server'
                ca_type = 'acme'
                ca_validation = 'http-01'
                ca_directory_url = '\(server.directoryURL)'
                ca_trust_file = '\(server.trustFile)'

            """
        let web = """
            name = 'web'
            group = 'example.com'
            service = 'web'
            signing_ca = 'standin'
            [KeyOpts]
                ktype = 'ec'
                ec_algo = 'secp256r1'
            [X509]
                CN = 'example.com'
                O = 'sslm tests'
                C = 'US'
                email = 'hostmaster@example.com'
                sans = ['example.com', 'www.example.com']

            """
        try ScratchTopdir(at: topdir).writeConf(["ssl-mgr.conf": main, "ca-info.conf": caInfo, "example.com/web": web])
        return topdir
    }

    /// Every regular file under `directory`, relative.
    static func files(under directory: String) -> Set<String> {
        var result: Set<String> = []
        guard let walker = FileManager.default.enumerator(atPath: directory) else { return [] }
        while let path = walker.nextObject() as? String {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: directory + "/" + path, isDirectory: &isDirectory),
                !isDirectory.boolValue
            {
                result.insert(path)
            }
        }
        return result
    }

    @Test(arguments: [
        ("hostile-token", "token"),
        ("oversized", "limit"),
        ("non-json-error", "500"),
        ("bad-chain", "refused"),
    ])
    func refusedWithAClearErrorAndNothingWritten(mode: String, expected: String) throws {
        let server = try StandInServer(mode: mode)
        defer { server.stop() }
        let outside = try ScratchTopdir()
        defer { outside.remove() }
        let topdir = try Self.topdir(for: server, outside: outside.path)
        let before = Self.files(under: outside.path).filter { !$0.hasPrefix("topdir/") }
        let run = try SSLMProcess.run(["apply", "--topdir", topdir])
        let output = run.stdout + run.stderr
        #expect(run.status == 1, "\(mode): \(output)")
        #expect(
            output.localizedCaseInsensitiveContains(expected),
            "\(mode): the reason should mention \(expected): \(output)")
        // Nothing outside the topdir (the web root may receive tokens only; none is valid here).
        let after = Self.files(under: outside.path).filter { !$0.hasPrefix("topdir/") }
        #expect(after == before, "\(mode) wrote outside the topdir: \(after.subtracting(before))")
        #expect(!FileManager.default.fileExists(atPath: "/etc/x"))
        // No certificate: neither in next nor in production.
        #expect(!FileManager.default.fileExists(atPath: topdir + "/certs/example.com/web/next/cert.pem"))
        #expect(!FileManager.default.fileExists(atPath: topdir + "/certs/example.com/web/curr"))
        #expect(!FileManager.default.fileExists(atPath: topdir + "/prod/example.com/web"))
    }
}
