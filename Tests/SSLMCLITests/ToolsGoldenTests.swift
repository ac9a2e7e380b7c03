import Foundation
import Testing

@Suite("sslm info / verify / tlsa-hash golden output")
struct ToolsGoldenTests {
    @Test("the sslm binary is next to the test runner")
    func binaryExists() {
        #expect(FileManager.default.isExecutableFile(atPath: ToolsHarness.binary), "\(ToolsHarness.binary)")
    }

    @Test("info: summary of cert, chain, CSR, key and bundle")
    func infoSummary() throws {
        let t = try ToolsHarness.run([
            "info", "ok/cert.pem", "ok/chain.pem", "ok/csr.pem", "ok/privkey.pem", "ok/bundle.pem",
            "selfsigned/cert.pem",
        ])
        #expect(t.status == 0)
        #expect(t.stdout.contains("Issued   : 2027-01-15 12:00:00 UTC (  16d 12:00:00 ago) (90 day cert)"))
        try ToolsHarness.expectGolden(t, "info-summary")
    }

    @Test("info -v: full decoded structure, never the private key")
    func infoVerbose() throws {
        let t = try ToolsHarness.run(["info", "-v", "ok/fullchain.pem", "ok/csr.pem", "ok/privkey.pem"])
        #expect(t.status == 0)
        #expect(t.stdout.contains("Authority Key Identifier"))
        #expect(t.stdout.contains("private key material not shown"))
        #expect(!t.stdout.contains("PRIVATE KEY"))
        try ToolsHarness.expectGolden(t, "info-verbose")
    }

    @Test("info reads standard input")
    func infoStdin() throws {
        let cert = try Array(Data(contentsOf: URL(fileURLWithPath: ToolsHarness.fixtures + "/ok/cert.pem")))
        let t = try ToolsHarness.run(["info"], stdin: cert)
        #expect(t.status == 0)
        #expect(t.stdout.contains("\nstdin\n"))
        try ToolsHarness.expectGolden(t, "info-stdin")
    }

    @Test("info: malformed inputs give one line naming the file and exit 1; good files still print")
    func infoMalformed() throws {
        let t = try ToolsHarness.run([
            "info", "malformed/truncated.pem", "malformed/garbage.bin", "malformed/mismatch-bundle.pem",
            "malformed/wrongorder-bundle.pem", "missing.pem", "ok/cert.pem",
        ])
        #expect(t.status == 1)
        let lines = t.stderr.split(separator: "\n")
        #expect(lines.count == 5)
        for (line, file) in zip(
            lines,
            [
                "truncated.pem", "garbage.bin", "mismatch-bundle.pem", "wrongorder-bundle.pem",
                "missing.pem",
            ])
        {
            #expect(line.contains(file))
        }
        #expect(t.stdout.contains("ok/cert.pem"))
        try ToolsHarness.expectGolden(t, "info-malformed")
    }

    @Test("verify: a good local-CA directory")
    func verifyOK() throws {
        let t = try ToolsHarness.run(["verify", "ok"])
        #expect(t.status == 0)
        #expect(t.stdout.contains("Certificate ** Verified **"))
        try ToolsHarness.expectGolden(t, "verify-ok")
    }

    @Test("verify: a self-signed certificate is its own anchor")
    func verifySelfSigned() throws {
        let t = try ToolsHarness.run(["verify", "selfsigned/cert.pem"])
        #expect(t.status == 0)
        try ToolsHarness.expectGolden(t, "verify-selfsigned")
    }

    @Test(
        "verify fails with the reason",
        arguments: [
            ("wrongchain", "2027-02-01T00:00:00Z", "wrong chain"),
            ("tampered", "2027-02-01T00:00:00Z", "does not verify"),
            ("ok", "2027-06-01T00:00:00Z", "expired on 2027-04-15 12:00:00 UTC"),
            ("ok", "2027-01-01T00:00:00Z", "is not valid before"),
        ])
    func verifyFails(directory: String, now: String, reason: String) throws {
        let t = try ToolsHarness.run(["verify", directory], now: now)
        #expect(t.status == 1)
        #expect(t.stdout.contains("Certificate ** Failed **"))
        #expect(t.stdout.contains(reason))
        #expect(t.stderr.split(separator: "\n").count == 1)
        #expect(t.stderr.contains(directory))
        let name = "verify-fail-\(directory)-" + now.prefix(10)
        try ToolsHarness.expectGolden(t, name)
    }

    @Test("verify: a directory without cert.pem/chain.pem is a one-line error")
    func verifyMissing() throws {
        let t = try ToolsHarness.run(["verify", "malformed"])
        #expect(t.status == 1)
        #expect(t.stdout.isEmpty)
        #expect(t.stderr == "sslm: malformed: cert.pem and chain.pem are required in the directory\n")
    }

    @Test("tlsa-hash: 3 1 1 data, and every combination with --all")
    func tlsaHash() throws {
        let t = try ToolsHarness.run(["tlsa-hash", "--all", "ok"])
        #expect(t.status == 0)
        #expect(t.stdout.hasPrefix("Matched: ok/cert.pem\ntlsa hash: "))
        try ToolsHarness.expectGolden(t, "tlsa-hash")
    }

    @Test("SSLM_NOW must be RFC 3339")
    func badNow() throws {
        let t = try ToolsHarness.run(["info", "ok/cert.pem"], now: "yesterday")
        #expect(t.status == 1)
        #expect(t.stderr.contains("SSLM_NOW"))
    }
}
