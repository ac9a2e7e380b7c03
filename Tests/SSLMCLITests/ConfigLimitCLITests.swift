import Foundation
import SSLMTestSupport
import Testing

/// The values that used to crash sslm or make it write in the wrong place: each now stops `config check`,
/// `plan` and `apply` with exit 1 and a message naming the file, the key, the allowed range and the value,
/// before anything is written.
@Suite("Out-of-range values stop every command before it writes")
struct ConfigLimitCLITests {
    private func edit(_ topdir: String, _ file: String, _ old: String, _ new: String) throws {
        let path = topdir + "/conf.d/" + file
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.contains(old), "\(file) holds \(old)")
        try text.replacingOccurrences(of: old, with: new).write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// Every file below `directory` whose name is `name`.
    private func entries(named name: String, below directory: String) -> [String] {
        guard let enumerator = FileManager.default.enumerator(atPath: directory) else { return [] }
        return enumerator.compactMap { $0 as? String }.filter { ($0 as NSString).lastPathComponent == name }
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var file: String
        var old: String
        var new: String
        var message: String
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        .init(
            name: "min_roll_mins = Int64.max", file: "ssl-mgr.conf", old: "min_roll_mins = 90",
            new: "min_roll_mins = 9223372036854775807",
            message:
                "error: conf.d/ssl-mgr.conf: [globals] min_roll_mins: out of range: expected 0–525600 minutes (at most 365 days), found 9223372036854775807"
        ),
        .init(
            name: "target_90 = 1e308", file: "ssl-mgr.conf", old: "target_90 = 30.0", new: "target_90 = 1e308",
            message:
                "error: conf.d/ssl-mgr.conf: [renew_info] target_90: out of range: expected 0 ≤ days before expiry < 90, found 1e+308"
        ),
        .init(
            name: "renew_expire_days = -30", file: "ssl-mgr.conf", old: "verb = false",
            new: "verb = false\nrenew_expire_days = -30",
            message:
                "error: conf.d/ssl-mgr.conf: [globals] renew_expire_days: out of range: expected 0 ≤ days before expiry < 90, found -30"
        ),
        .init(
            name: "dane_tls_ttl above 2^31-1", file: "example.com/mail-ec", old: "dane_tls_ttl = 1800",
            new: "dane_tls_ttl = 4294967296",
            message:
                "error: conf.d/example.com/mail-ec: dane_tls_ttl: out of range: expected 0–2147483647 seconds (RFC 2181; 0 = no TTL field), found 4294967296"
        ),
        .init(
            name: "NUL in a SAN", file: "example.net/web-ec", old: "'www.example.net'",
            new: "\"www.example.net\\u0000.evil.com\"",
            message: "contains the control character U+0000 (NUL"),
        .init(
            name: "prod_cert_dir = 'certs'", file: "ssl-mgr.conf", old: "prod_cert_dir = 'prod-certs'",
            new: "prod_cert_dir = 'certs'", message: "/certs or inside it, which sslm manages itself"),
        .init(
            name: "prod_cert_dir = '/'", file: "ssl-mgr.conf", old: "prod_cert_dir = 'prod-certs'",
            new: "prod_cert_dir = '/'", message: "[globals] prod_cert_dir: / is a system directory"),
        .init(
            name: "service tlsa.example.com", file: "ssl-mgr.conf", old: "services = ['mail-ec', 'mail-rsa', 'web-ec']",
            new: "services = ['mail-ec', 'mail-rsa', 'web-ec', 'tlsa.example.com']",
            message: "error: conf.d/ssl-mgr.conf: [groups[2]] services: service name \"tlsa.example.com\" is reserved"),
    ]

    @Test("config check, plan and apply exit 1 with file, key, range and value", arguments: cases)
    func everyCommandReports(_ testCase: Case) throws {
        let topdir = try ExampleTopdir.make("sslm-limits")
        defer { try? FileManager.default.removeItem(atPath: topdir) }
        try edit(topdir, testCase.file, testCase.old, testCase.new)
        for arguments in [["config", "check"], ["plan"], ["apply"]] {
            let result = try SSLMProcess.run(arguments + ["--topdir", topdir])
            #expect(result.status == 1, "\(arguments): \(result.stdout)\(result.stderr)")
            #expect(result.stderr.contains(testCase.message), "\(arguments): \(result.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: topdir + "/certs"), "apply wrote certs/ for a bad config")
        #expect(!FileManager.default.fileExists(atPath: topdir + "/prod-certs"))
    }

    @Test("apply with sign_end_days = Int64.max: exit 1, a clear message, no half-built next")
    func signEndDaysExtreme() throws {
        let topdir = try ExampleTopdir.make("sslm-limits-sign")
        defer { try? FileManager.default.removeItem(atPath: topdir) }
        try edit(topdir, "ca/my-int", "sign_end_days = 90", "sign_end_days = 9223372036854775807")
        let result = try SSLMProcess.run(["apply", "--topdir", topdir])
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        #expect(
            result.stderr.contains(
                "error: conf.d/ca/my-int: [CA] sign_end_days: out of range: expected 1–36500 days (at most 100 years: X.509 dates end in the year 9999), found 9223372036854775807"
            ),
            "\(result.stderr)")
        #expect(entries(named: "next", below: topdir).isEmpty, "\(entries(named: "next", below: topdir))")
        #expect(entries(named: "privkey.pem", below: topdir).isEmpty)
        // The bound itself works end to end: the same topdir applies with 36500 days.
        try edit(topdir, "ca/my-int", "sign_end_days = 9223372036854775807", "sign_end_days = 36500")
        let fixed = try SSLMProcess.run(["apply", "--topdir", topdir, "ca:my-root,my-int"])
        #expect(fixed.status == 0, "\(fixed.stdout)\(fixed.stderr)")
        #expect(FileManager.default.fileExists(atPath: topdir + "/certs/ca/my-int/curr/cert.pem"))
    }

    @Test("--min-roll-mins out of range is a usage error, not a crash")
    func minRollMinutesOption() throws {
        let topdir = try ExampleTopdir.make("sslm-limits-option")
        defer { try? FileManager.default.removeItem(atPath: topdir) }
        for command in ["plan", "apply"] {
            for value in ["9223372036854775807", "-1", "525601"] {
                let result = try SSLMProcess.run([command, "--topdir", topdir, "--min-roll-mins=\(value)"])
                #expect(result.status == 64, "\(command) \(value): \(result.status) \(result.stderr)")
                #expect(
                    result.stderr.contains(
                        "--min-roll-mins: expected 0–525600 minutes (at most 365 days), found \(value)"),
                    "\(result.stderr)")
            }
        }
        let ok = try SSLMProcess.run(["plan", "--topdir", topdir, "--min-roll-mins", "525600"])
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(!FileManager.default.fileExists(atPath: topdir + "/certs"))
    }
}
