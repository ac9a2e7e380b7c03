import Foundation
import SSLMTestSupport
import Testing

/// ARI (RFC 9773) through the CLI: the CA's suggested window, not `[renew_info]`, decides when a
/// certificate it issued renews. Debian's pebble 2.4 has no `renewalInfo`, so the CA here is a stand-in
/// (`scripts/testbed/acme-standin.py --mode ari-profiles`, which does not check signatures) whose window
/// is 2030-01-02T03:04:05Z – 2030-01-03T03:04:05.5Z.
@Suite(.serialized, .enabled(if: TestTier.full, "starts the ACME stand-in: not in make check"))
struct ACMERenewalInfoTests {
    /// The offline example, applied; then example.com/web-ec is moved to the stand-in CA (its curr was
    /// signed by the local my-int: any certificate with an AKI has an ARI id).
    static func topdir(_ server: StandInServer) throws -> String {
        let topdir = try ExampleTopdir.make("sslm-ari")
        let made = try SSLMProcess.run(["apply", "--topdir", topdir])
        guard made.status == 0 else { throw TestbedError("apply: \(made.stdout)\(made.stderr)") }
        let caInfo = topdir + "/conf.d/ca-info.conf"
        var text = try String(contentsOfFile: caInfo, encoding: .utf8)
        text += """

            [standin]
                ca_desc = 'a stand-in ACME server with ARI'
                ca_type = 'acme'
                ca_validation = 'http-01'
                ca_directory_url = '\(server.directoryURL)'
                ca_trust_file = '\(server.trustFile)'

            """
        try text.write(toFile: caInfo, atomically: true, encoding: .utf8)
        let service = topdir + "/conf.d/example.com/web-ec"
        let edited = try String(contentsOfFile: service, encoding: .utf8)
            .replacingOccurrences(of: "signing_ca = 'my-int'", with: "signing_ca = 'standin'")
        try edited.write(toFile: service, atomically: true, encoding: .utf8)
        return topdir
    }

    @Test func theCAsWindowDecidesAndIsAskedOnce() throws {
        let server = try StandInServer(mode: "ari-profiles")
        defer { server.stop() }
        let topdir = try Self.topdir(server)
        defer { try? FileManager.default.removeItem(atPath: topdir) }
        // curr counts as this CA's, ordered by the account sslm holds (else its switch would be drift, and an
        // order would not name it as `replaces`).
        try LedgerFixture.recordIssuer(
            topdir, service: "example.com/web-ec", ca: "standin", directory: server.directoryURL,
            account: "https://127.0.0.1:\(server.port)/acct/1", email: "hostmaster@example.com")
        // 75 days into a 90-day certificate: [renew_info] (30 d before expiry) would renew now.
        let now = ISO8601DateFormatter().string(from: Date().addingTimeInterval(75 * 86_400))
        let plan = try SSLMProcess.run(
            ["plan", "--topdir", topdir, "--json", "example.com:web-ec"],
            environment: ["SSLM_NOW": now])
        #expect(plan.status == 0, "\(plan.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(plan.stdout.utf8)) as? [String: Any]
        let actions = object?["actions"] as? [[String: Any]] ?? []
        let notes = object?["notes"] as? [[String: Any]] ?? []
        #expect(!actions.contains { ($0["kind"] as? String) == "acme_order" }, "ARI's window is in 2030: \(actions)")
        let note = notes.compactMap { ($0["reason"] as? [String: Any])?["message"] as? String }
            .first { $0.contains("ARI") }
        #expect(note?.contains("2030-01-02T03:04:05Z") == true, "notes: \(notes)")
        let asked = try server.requests().filter { $0.path.hasPrefix("/renewal-info/") }
        #expect(asked.count == 1)
        // `plan` writes nothing, not even the cache: only a writing run (apply) stores the CA's answer.
        let cache = topdir + "/.sslm/acme/renewal-info.json"
        #expect(!FileManager.default.fileExists(atPath: cache), "plan wrote \(cache)")
        let apply = try SSLMProcess.run(
            ["apply", "--topdir", topdir, "example.com:web-ec"], environment: ["SSLM_NOW": now])
        #expect(apply.status == 0, "\(apply.stdout)\(apply.stderr)")
        #expect(FileManager.default.fileExists(atPath: cache), "apply stores the CA's answer")
        #expect(try server.requests().filter { $0.path.hasPrefix("/renewal-info/") }.count == 2)
        // Cached (the CA said Retry-After 6 h): a plan does not ask again, and decides the same.
        let second = try SSLMProcess.run(
            ["plan", "-v", "--topdir", topdir, "example.com:web-ec"], environment: ["SSLM_NOW": now])
        #expect(second.stdout.contains("ARI"), "\(second.stdout)")
        #expect(try server.requests().filter { $0.path.hasPrefix("/renewal-info/") }.count == 2)
        // Inside the window the same certificate is due; by 2030 it has expired, so the order does not name it
        // as `replaces` (Let's Encrypt's rules; the accepted case is in ACMEReplacesTests).
        let inWindow = try SSLMProcess.run(
            ["plan", "--topdir", topdir, "--json", "example.com:web-ec"],
            environment: ["SSLM_NOW": "2030-01-03T03:04:05Z"])
        let due = try JSONSerialization.jsonObject(with: Data(inWindow.stdout.utf8)) as? [String: Any]
        let order = (due?["actions"] as? [[String: Any]] ?? []).first { ($0["kind"] as? String) == "acme_order" }
        #expect(order != nil, "\(inWindow.stdout)")
        #expect((order?["params"] as? [String: Any])?["replaces"] == nil, "\(inWindow.stdout)")
    }
}
