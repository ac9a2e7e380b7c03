import Foundation
import SSLMTestSupport
import Testing

extension ACMEEndToEndTests {
    /// The status pebble's management interface gives for a certificate serial (hex), e.g. `Revoked`.
    static func pebbleStatus(_ testbed: ACMETestbed, serialHex: String) throws -> String {
        let output = try ScriptRunner.run([
            "/usr/bin/curl", "-s", "--fail", "--cacert", testbed.pebble["PEBBLE_TRUST"] ?? "",
            (testbed.pebble["PEBBLE_MGMT"] ?? "") + "/cert-status-by-serial/" + serialHex,
        ])
        try #require(output.status == 0, "pebble cert-status-by-serial/\(serialHex): \(output.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [String: Any]
        return object?["Status"] as? String ?? "no Status in \(output.stdout)"
    }

    @Test func retireWithRevokeRevokesAtTheCA() throws {
        let testbed = try ACMETestbed()
        defer { testbed.stop() }
        let kept = Self.services[0]
        let retired = Self.services[3]
        let topdir = try Self.makeTopdir(testbed, services: [kept, retired])
        let run = try Self.apply(topdir)
        #expect(run.status == 0, "apply: \(run.stdout)\(run.stderr)")
        let serial = try SSLMProcess.run(
            ["x509", "-noout", "-serial", "-in", topdir + "/certs/example.net/web-ec/curr/cert.pem"],
            executable: "/usr/bin/openssl"
        ).stdout.trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: "serial=", with: "")
        try #require(serial.count > 10, "serial of example.net/web-ec: \(serial)")
        #expect(try Self.pebbleStatus(testbed, serialHex: serial) == "Valid")

        // example.net leaves the config (its service file stays, unread).
        try testbed.writeTopdir(topdir, services: [kept])
        let noted = try SSLMProcess.run(["plan", "--detailed-exitcode", "--topdir", topdir])
        #expect(noted.status == 0, "\(noted.stdout)\(noted.stderr)")
        #expect(noted.stdout.contains("group example.net is no longer in the config"), "\(noted.stdout)")
        let planned = try SSLMProcess.run(["plan", "--retire", "--revoke", "--topdir", topdir])
        #expect(planned.stdout.contains("curr revoked at pebble-http first"), "\(planned.stdout)")
        #expect(planned.stdout.contains("revoke=true"), "\(planned.stdout)")

        let retire = try Self.apply(topdir, ["--retire", "--revoke"])
        #expect(retire.status == 0, "apply --retire --revoke: \(retire.stdout)\(retire.stderr)")
        #expect(retire.stdout.contains("revoked (serial"), "\(retire.stdout)")
        #expect(try Self.pebbleStatus(testbed, serialHex: serial) == "Revoked")
        #expect(!FileManager.default.fileExists(atPath: topdir + "/certs/example.net/web-ec"))
        let ledger = try String(contentsOfFile: topdir + "/.sslm/certificates.json", encoding: .utf8)
        #expect(ledger.contains("cessationOfOperation") && ledger.contains("\"retired\""), "\(ledger)")
        // The kept service is untouched, and nothing is left to do.
        #expect(FileManager.default.fileExists(atPath: topdir + "/certs/example.com/web-ec/curr/cert.pem"))
        let after = try SSLMProcess.run(["plan", "--retire", "--detailed-exitcode", "--topdir", topdir])
        #expect(after.status == 0, "\(after.stdout)\(after.stderr)")
    }
}
