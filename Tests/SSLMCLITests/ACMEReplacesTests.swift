import Foundation
import SSLMCore
import SSLMPKI
import SSLMTestSupport
import Testing

/// ARI `replaces` as Let's Encrypt accepts it, and a switch of `signing_ca` as drift, through the CLI
/// against the `boulder-ari` stand-in (`scripts/testbed/acme-standin.py`: issues at once, one account per
/// account key, and refuses `replaces` by Boulder's rules).
@Suite(.serialized, .enabled(if: TestTier.full, "starts the ACME stand-in: not in make check"))
struct ACMEReplacesTests {
    /// The offline example applied (example.com/web-ec signed by the local my-int), then web-ec moved to
    /// the stand-in CA `standin`.
    static func topdir(_ server: StandInServer) throws -> String {
        let topdir = try ExampleTopdir.make("sslm-replaces")
        let made = try SSLMProcess.run(["apply", "--topdir", topdir])
        guard made.status == 0 else { throw TestbedError("apply: \(made.stdout)\(made.stderr)") }
        try LedgerFixture.addCA(topdir, name: "standin", server: server)
        try LedgerFixture.setSigner(topdir, service: "example.com/web-ec", from: "my-int", to: "standin")
        return topdir
    }

    static func plan(_ topdir: String, _ arguments: [String], now: String? = nil) throws -> [String: Any] {
        let run = try SSLMProcess.run(
            ["plan", "--topdir", topdir, "--json"] + arguments + ["example.com:web-ec"],
            environment: now.map { ["SSLM_NOW": $0] } ?? [:])
        guard run.status == 0 || run.status == 2 else { throw TestbedError("plan: \(run.stdout)\(run.stderr)") }
        return try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any] ?? [:]
    }

    static func action(_ plan: [String: Any], kind: String) -> [String: Any]? {
        (plan["actions"] as? [[String: Any]] ?? []).first { ($0["kind"] as? String) == kind }
    }

    static func apply(_ topdir: String, _ arguments: [String]) throws -> SSLMProcess.Output {
        try SSLMProcess.run(["apply", "--topdir", topdir] + arguments + ["example.com:web-ec"])
    }

    @Test func replacesOnlyWhatTheCAAccepts() throws {
        let server = try StandInServer(mode: "boulder-ari")
        defer { server.stop() }
        let topdir = try Self.topdir(server)
        defer { try? FileManager.default.removeItem(atPath: topdir) }

        // my-int → standin is drift: a new certificate at once, the reason names both; no `replaces` for
        // a certificate this CA did not issue.
        let switched = try Self.plan(topdir, [])
        let dir = Self.action(switched, kind: "create_next")
        let reason = dir?["reason"] as? [String: Any]
        #expect(reason?["code"] as? String == "issuer_changed", "\(switched)")
        let message = reason?["message"] as? String ?? ""
        #expect(message.contains("\"my-int\"") && message.contains("\"standin\""), "\(message)")
        #expect((Self.action(switched, kind: "acme_order")?["params"] as? [String: Any])?["replaces"] == nil)
        let first = try Self.apply(topdir, ["--replace"])
        #expect(first.status == 0, "\(first.stdout)\(first.stderr)")
        #expect(try server.newOrders().count == 1)
        #expect(try server.newOrders().last?["replaces"] == nil)
        let quiet = try Self.plan(topdir, [])
        #expect(Self.action(quiet, kind: "create_next") == nil, "the issuer is recorded: \(quiet)")

        // Normal case: curr was ordered here by this account: `replaces` is sent and accepted.
        let renewal = try Self.plan(topdir, ["--replace"])
        #expect(
            (Self.action(renewal, kind: "acme_order")?["params"] as? [String: Any])?["replaces"] as? String == "curr")
        let second = try Self.apply(topdir, ["--replace"])
        #expect(second.status == 0, "\(second.stdout)\(second.stderr)")
        #expect(try server.newOrders().last?["replaces"] is String)
        #expect(server.issued().values.filter { $0["replaced"] as? Bool == true }.count == 1)

        // An expired curr is never named.
        let later = ISO8601DateFormatter().string(from: Date().addingTimeInterval(100 * 86_400))
        let expired = try Self.plan(topdir, [], now: later)
        let expiredOrder = Self.action(expired, kind: "acme_order")
        #expect(expiredOrder != nil, "\(expired)")
        #expect((expiredOrder?["params"] as? [String: Any])?["replaces"] == nil)

        // Already replaced: a renewal names curr and is accepted; a second one (replacing the pending next)
        // is refused (`alreadyReplaced`), retried without `replaces` in the same run, and remembered.
        let renew = try Self.apply(topdir, ["--phase", "renew", "--force"])
        #expect(renew.status == 0, "\(renew.stdout)\(renew.stderr)")
        let again = try Self.apply(topdir, ["--phase", "renew", "--force"])
        #expect(again.status == 0, "\(again.stdout)\(again.stderr)")
        let orders = try server.newOrders()
        #expect(orders.count == 5, "\(orders)")
        #expect(orders.suffix(3).map { $0["replaces"] != nil } == [true, true, false], "\(orders)")
        let ledger = try String(contentsOfFile: topdir + "/.sslm/certificates.json", encoding: .utf8)
        #expect(ledger.contains("alreadyReplaced"), "\(ledger)")
        let remembered = try Self.plan(topdir, ["--phase", "renew", "--force"])
        #expect((Self.action(remembered, kind: "acme_order")?["params"] as? [String: Any])?["replaces"] == nil)

        // Foreign account (the account was lost, or curr came from another client's account): no `replaces`.
        try FileManager.default.removeItem(atPath: topdir + "/.sslm/acme/accounts")
        let foreign = try Self.plan(topdir, ["--replace"])
        #expect((Self.action(foreign, kind: "acme_order")?["params"] as? [String: Any])?["replaces"] == nil)
        let third = try Self.apply(topdir, ["--replace"])
        #expect(third.status == 0, "\(third.stdout)\(third.stderr)")
        #expect(try server.newOrders().last?["replaces"] == nil)

        // ACME → local: back to my-int is drift again.
        try LedgerFixture.setSigner(topdir, service: "example.com/web-ec", from: "standin", to: "my-int")
        let back = try Self.plan(topdir, [])
        let backReason = Self.action(back, kind: "create_next")?["reason"] as? [String: Any]
        #expect(backReason?["code"] as? String == "issuer_changed", "\(back)")
        #expect((backReason?["message"] as? String ?? "").contains("ACME CA \"standin\""))
    }
}

/// Edits of an example topdir for the ACME stand-in tests: a CA section, a service's `signing_ca`, and the
/// ledger record that says which CA (and account) issued curr.
enum LedgerFixture {
    static func addCA(_ topdir: String, name: String, server: StandInServer) throws {
        let caInfo = topdir + "/conf.d/ca-info.conf"
        var text = try String(contentsOfFile: caInfo, encoding: .utf8)
        text += """

            [\(name)]
                ca_desc = 'a stand-in ACME server'
                ca_type = 'acme'
                ca_validation = 'http-01'
                ca_directory_url = '\(server.directoryURL)'
                ca_trust_file = '\(server.trustFile)'

            """
        try text.write(toFile: caInfo, atomically: true, encoding: .utf8)
    }

    static func setSigner(_ topdir: String, service: String, from old: String, to new: String) throws {
        let path = topdir + "/conf.d/" + service
        let edited = try String(contentsOfFile: path, encoding: .utf8)
            .replacingOccurrences(of: "signing_ca = '\(old)'", with: "signing_ca = '\(new)'")
        try edited.write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// Records that `service`'s curr was ordered from `directory` by `account` (as if sslm had issued it),
    /// and that sslm holds that account for the service's `email`.
    static func recordIssuer(
        _ topdir: String, service: String, ca: String, directory: String, account: String, email: String
    ) throws {
        let certificate = topdir + "/certs/" + service + "/curr/cert.pem"
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: certificate)))
        guard let block = try PEMBlock.parseAll(bytes, file: certificate).first else {
            throw TestbedError("\(certificate) holds no certificate")
        }
        let record: [String: Any] = ["ca": ca, "directory": directory, "account": account]
        let ledger = [ContentDigest.sha256Hex(block.derBytes): record]
        try JSONSerialization.data(withJSONObject: ledger).write(
            to: URL(fileURLWithPath: topdir + "/.sslm/certificates.json"))
        let id = ContentDigest.sha256Hex(Array("\(directory)\n\(email)".utf8)).prefix(16)
        let accountDirectory = topdir + "/.sslm/acme/accounts/\(id)"
        try FileManager.default.createDirectory(atPath: accountDirectory, withIntermediateDirectories: true)
        let accountRecord: [String: Any] = [
            "url": account, "directory": directory, "contact": email, "created": "2026-01-01T00:00:00Z",
        ]
        try JSONSerialization.data(withJSONObject: accountRecord).write(
            to: URL(fileURLWithPath: accountDirectory + "/account.json"))
    }
}
