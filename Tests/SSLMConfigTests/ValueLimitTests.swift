import Foundation
@testable import SSLMConfig
import SSLMCore
import Testing

private let main = "conf.d/ssl-mgr.conf"
private let mail = "conf.d/example.com/mail"
private let intCA = "conf.d/ca/int"

private func globals(_ line: String) -> [String: String?] {
    ["ssl-mgr.conf": replacing("ssl-mgr.conf", "logdir = 'logs'", with: "logdir = 'logs'\n" + line)]
}

private func renewInfo(_ lines: String) -> [String: String?] {
    ["ssl-mgr.conf": appending("ssl-mgr.conf", "[renew_info]\n" + lines)]
}

private func mailTop(_ line: String) -> [String: String?] {
    ["example.com/mail": replacing("example.com/mail", "signing_ca = 'int'", with: "signing_ca = 'int'\n" + line)]
}

private func prodDir(_ value: String) -> [String: String?] {
    ["ssl-mgr.conf": replacing("ssl-mgr.conf", "prod_cert_dir = 'prod'", with: "prod_cert_dir = '\(value)'")]
}

private func services(_ list: String) -> [String: String?] {
    ["ssl-mgr.conf": replacing("ssl-mgr.conf", "services = ['mail']", with: "services = \(list)")]
}

/// Values that type-check but lie outside what sslm can compute with, or that would make it misbehave:
/// each is an error naming the file, table and key, the allowed range and the value found.
let valueLimitCases: [BadConfigCase] = [
    // Integers of [globals] and server tables.
    .init(
        name: "min_roll_mins Int64.max", files: globals("min_roll_mins = 9223372036854775807"),
        file: main, table: "globals", key: "min_roll_mins",
        messageContains: "out of range: expected 0–525600 minutes (at most 365 days), found 9223372036854775807"),
    .init(
        name: "dns_check_delay negative", files: globals("dns_check_delay = -1"),
        file: main, table: "globals", key: "dns_check_delay",
        messageContains: "expected 0–3600 seconds, found -1"),
    .init(
        name: "dns_check_delay above an hour", files: globals("dns_check_delay = 3601"),
        file: main, table: "globals", key: "dns_check_delay", messageContains: "found 3601"),
    .init(
        name: "clean_keep huge", files: globals("clean_keep = 9223372036854775807"),
        file: main, table: "globals", key: "clean_keep",
        messageContains: "expected 1–10000 data sets, found 9223372036854775807"),
    .init(
        name: "restart_timeout above a day",
        files: ["ssl-mgr.conf": appending("ssl-mgr.conf", "[smtp]\nrestart_timeout = 86401")],
        file: main, table: "smtp", key: "restart_timeout", messageContains: "expected 1–86400 seconds, found 86401"),
    // [renew_info] and the deprecated keys.
    .init(
        name: "target_90 = 1e308", files: renewInfo("target_90 = 1e308"),
        file: main, table: "renew_info", key: "target_90",
        messageContains: "out of range: expected 0 ≤ days before expiry < 90, found 1e+308"),
    .init(
        name: "target_90 above the lifetime", files: renewInfo("target_90 = 200"),
        file: main, table: "renew_info", key: "target_90", messageContains: "makes every run renew"),
    .init(
        name: "target_90 equal to the lifetime", files: renewInfo("target_90 = 90"),
        file: main, table: "renew_info", key: "target_90", messageContains: "< 90, found 90"),
    .init(
        name: "target_90 = -1e308", files: renewInfo("target_90 = -1e308"),
        file: main, table: "renew_info", key: "target_90", messageContains: "only after the certificate expired"),
    .init(
        name: "rand_adj_90 above the lifetime", files: renewInfo("rand_adj_90 = 100"),
        file: main, table: "renew_info", key: "rand_adj_90",
        messageContains: "expected 0 ≤ days of spread < 90, found 100"),
    .init(
        name: "rand_adj_90 wider than the target", files: renewInfo("target_90 = 30\nrand_adj_90 = 31"),
        file: main, table: "renew_info", key: "rand_adj_90", messageContains: "keep rand_adj_90 ≤ target_90"),
    .init(
        name: "target + spread reach the lifetime", files: renewInfo("target_90 = 60\nrand_adj_90 = 30"),
        file: main, table: "renew_info", key: "rand_adj_90", messageContains: "keep target_90 + rand_adj_90 < 90"),
    .init(
        name: "lifetime of a renew_info key out of range", files: renewInfo("'target_1e9' = 3"),
        file: main, table: "renew_info", key: "target_1e9", messageContains: "expected 0–36500 days"),
    .init(
        name: "global renew_expire_days negative", files: globals("renew_expire_days = -30"),
        file: main, table: "globals", key: "renew_expire_days", messageContains: "found -30"),
    .init(
        name: "global renew_expire_days above 90", files: globals("renew_expire_days = 100"),
        file: main, table: "globals", key: "renew_expire_days", messageContains: "makes every run renew"),
    .init(
        name: "global renew_expire_days_spread above 90", files: globals("renew_expire_days_spread = -100"),
        file: main, table: "globals", key: "renew_expire_days_spread", messageContains: "found 100"),
    .init(
        name: "service renew_expire_days negative", files: mailTop("renew_expire_days = -30"),
        file: mail, table: nil, key: "renew_expire_days", messageContains: "only after the certificate expired"),
    .init(
        name: "service renew_expire_days_spread wider than the target", files: mailTop("renew_expire_days_spread = 50"),
        file: mail, table: nil, key: "renew_expire_days_spread", messageContains: "keep rand_adj_90 ≤ target_90"),
    // Service files.
    .init(
        name: "dane_tls_ttl above 2^31-1", files: mailTop("dane_tls_ttl = 2147483648"),
        file: mail, table: nil, key: "dane_tls_ttl",
        messageContains: "expected 0–2147483647 seconds (RFC 2181; 0 = no TTL field), found 2147483648"),
    .init(
        name: "dane_tls_ttl negative", files: mailTop("dane_tls_ttl = -1"),
        file: mail, table: nil, key: "dane_tls_ttl", messageContains: "found -1"),
    .init(
        name: "sign_end_days Int64.max",
        files: ["ca/int": replacing("ca/int", "sign_end_days = 90", with: "sign_end_days = 9223372036854775807")],
        file: intCA, table: "CA", key: "sign_end_days",
        messageContains:
            "out of range: expected 1–36500 days (at most 100 years: X.509 dates end in the year 9999), found 9223372036854775807"
    ),
    .init(
        name: "sign_end_days one above the limit",
        files: ["ca/int": replacing("ca/int", "sign_end_days = 90", with: "sign_end_days = 36501")],
        file: intCA, table: "CA", key: "sign_end_days", messageContains: "found 36501"),
    // Control characters, in every kind of place.
    .init(
        name: "NUL in a SAN",
        files: [
            "example.com/mail": replacing(
                "example.com/mail", "'mail.example.com'", with: "\"www.example.net\\u0000.evil.com\"")
        ],
        file: mail, table: "X509", key: "sans",
        messageContains: "item 1: \"www.example.net\u{FFFD}.evil.com\" contains the control character U+0000 (NUL"),
    .init(
        name: "NUL as \\U00000000 in the CN",
        files: [
            "example.com/mail": replacing(
                "example.com/mail", "CN = 'example.com'", with: "CN = \"example.com\\U00000000x\"")
        ],
        file: mail, table: "X509", key: "CN", messageContains: "U+0000 (NUL"),
    .init(
        name: "NUL in a multi-line string",
        files: [
            "example.com/mail": replacing("example.com/mail", "name = 'Mail'", with: "name = \"\"\"Mail\\u0000\"\"\"")
        ],
        file: mail, table: nil, key: "name", messageContains: "U+0000 (NUL"),
    .init(
        name: "bell in a service name list", files: services("[\"mail\\u0007\"]"),
        file: main, table: "groups[2]", key: "services", messageContains: "control character U+0007"),
    .init(
        name: "line break in restart_cmd",
        files: ["ssl-mgr.conf": appending("ssl-mgr.conf", "[smtp]\nrestart_cmd = \"/bin/true\\n/bin/rm\"")],
        file: main, table: "smtp", key: "restart_cmd", messageContains: "control character U+000A"),
    .init(
        name: "escape character in a CA description",
        files: ["ca-info.conf": "[root]\nca_type = 'self'\nca_desc = \"x\\u001b[31m\"\n[int]\nca_type = 'local'\n"],
        file: "conf.d/ca-info.conf", table: "root", key: "ca_desc", messageContains: "U+001B"),
    .init(
        name: "C1 control in [renew_info]", files: renewInfo("target_90 = \"\\u0085\""),
        file: main, table: "renew_info", key: "target_90", messageContains: "U+0085"),
    .init(
        name: "NUL in a key name", files: globals("\"verb\\u0000x\" = true"),
        file: main, table: "globals", key: "verb\u{FFFD}x",
        messageContains: "the key name contains the control character U+0000"),
    .init(
        name: "NUL in a dane_tls entry",
        files: [
            "example.com/mail": replacing(
                "example.com/mail", "[[25, 'tcp', 3, 1, 1]]", with: "[[25, \"tcp\\u0000\", 3, 1, 1]]")
        ],
        file: mail, table: nil, key: "dane_tls", messageContains: "item 1.2: "),
    // prod_cert_dir overlapping sslm's own tree or the system.
    .init(
        name: "prod_cert_dir = certs", files: prodDir("certs"),
        file: main, table: "globals", key: "prod_cert_dir",
        messageContains: "/certs or inside it, which sslm manages itself"),
    .init(
        name: "prod_cert_dir inside certs", files: prodDir("certs/ca/root"),
        file: main, table: "globals", key: "prod_cert_dir", messageContains: "which sslm manages itself"),
    .init(
        name: "prod_cert_dir = .sslm", files: prodDir(".sslm"),
        file: main, table: "globals", key: "prod_cert_dir",
        messageContains: "/.sslm or inside it, which sslm manages itself"),
    .init(
        name: "prod_cert_dir inside conf.d", files: prodDir("conf.d/prod"),
        file: main, table: "globals", key: "prod_cert_dir",
        messageContains: "/conf.d or inside it, which sslm manages itself"),
    .init(
        name: "prod_cert_dir = the topdir", files: prodDir("."),
        file: main, table: "globals", key: "prod_cert_dir", messageContains: "is the topdir or contains it"),
    .init(
        name: "prod_cert_dir = /", files: prodDir("/"),
        file: main, table: "globals", key: "prod_cert_dir", messageContains: "/ is a system directory"),
    .init(
        name: "prod_cert_dir = /etc", files: prodDir("/etc"),
        file: main, table: "globals", key: "prod_cert_dir", messageContains: "/etc is a system directory"),
    .init(
        name: "prod_cert_dir = /usr/ with a slash", files: prodDir("/usr/"),
        file: main, table: "globals", key: "prod_cert_dir", messageContains: "/usr is a system directory"),
    .init(
        name: "prod_cert_dir = /var/../etc", files: prodDir("/var/../etc"),
        file: main, table: "globals", key: "prod_cert_dir", messageContains: "/etc is a system directory"),
    // Reserved service names.
    .init(
        name: "service tlsa.<group>", files: services("['mail', 'tlsa.example.com']"),
        file: main, table: "groups[2]", key: "services", messageContains: "\"tlsa.example.com\" is reserved"),
    .init(
        name: "service acme-challenge.<apex>", files: services("['acme-challenge.example.com']"),
        file: main, table: "groups[2]", key: "services", messageContains: "is reserved"),
    .init(
        name: "hidden service name", files: services("['.mail']"),
        file: main, table: "groups[2]", key: "services", messageContains: "starts with \".\""),
    .init(
        name: "service named curr", files: services("['curr']"),
        file: main, table: "groups[2]", key: "services", messageContains: "curr, next and prev"),
    .init(
        name: "local CA named tlsa.x",
        files: ["ca-info.conf": appending("ca-info.conf", "[\"tlsa.x\"]\nca_type = 'local'")],
        file: "conf.d/ca-info.conf", table: "tlsa.x", key: "ca_type", messageContains: "is reserved"),
]

@Suite("Numbers, paths, names and strings stay within what sslm can use")
struct ValueLimitTests {
    @Test(arguments: valueLimitCases)
    func reportsFileTableKeyAndRange(_ testCase: BadConfigCase) throws {
        let topdir = try TestTopdir(testCase.files)
        let result = topdir.load()
        #expect(result.config == nil, "a config with errors must not load")
        let matching = result.diagnostics.errors.filter {
            $0.file == testCase.file && $0.table == testCase.table && $0.key == testCase.key
                && $0.message.contains(testCase.messageContains)
        }
        #expect(
            matching.count == 1,
            """
            expected one error at \(testCase.file) [\(testCase.table ?? "-")] \(testCase.key ?? "-") containing \
            "\(testCase.messageContains)"; got:
            \(result.diagnostics.map(\.description).joined(separator: "\n"))
            """)
    }

    @Test(
        "the bounds themselves are accepted",
        arguments: [
            globals("min_roll_mins = 525600\ndns_check_delay = 3600\nclean_keep = 10000"),
            renewInfo("target_90 = 89.9\nrand_adj_90 = 0\ntarget_45 = 20\nrand_adj_45 = 20\n'target_36500' = 100"),
            renewInfo("target_0 = 0.9"),
            globals("renew_expire_days = 0"),
            mailTop("dane_tls_ttl = 2147483647"),
            mailTop("dane_tls_ttl = 0"),
            ["ca/int": replacing("ca/int", "sign_end_days = 90", with: "sign_end_days = 36500")],
            prodDir("/etc/ssl-mgr/prod-certs"),
            prodDir("prod-certs"),
            prodDir("/tmp/sslm-prod"),
            [
                "example.com/mail": replacing(
                    "example.com/mail", "name = 'Mail'", with: "name = 'Mail\\u0000 \t tab and literal'")
            ],
        ])
    func boundsAccepted(files: [String: String?]) throws {
        let topdir = try TestTopdir(files)
        let result = topdir.load()
        #expect(result.config != nil, "\(result.diagnostics.map(\.description).joined(separator: "\n"))")
    }

    @Test("a prod_cert_dir reached through a symbolic link into certs/ is rejected")
    func symlinkIntoCerts() throws {
        let topdir = try TestTopdir(prodDir("link/prod"))
        try FileManager.default.createDirectory(atPath: topdir.path + "/certs", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(
            atPath: topdir.path + "/link", withDestinationPath: topdir.path + "/certs")
        let errors = topdir.load().diagnostics.errors.filter { $0.key == "prod_cert_dir" }
        #expect(errors.count == 1)
        #expect(errors.first?.message.contains("/certs or inside it") == true, "\(errors)")
    }

    @Test(
        "prod_cert_dir may not contain the topdir; a sibling or a system subdirectory is fine",
        arguments: [
            ("/data", "/data/ssl-mgr", "is the topdir or contains it"),
            ("/srv/ssl-mgr", "/srv/ssl-mgr", "is the topdir or contains it"),
            ("/srv/ssl-mgr/test/prod", "/srv/ssl-mgr", "/srv/ssl-mgr/test or inside it"),
            ("/var/lib", "/srv/ssl-mgr", "/var/lib is a system directory"),
            ("/srv/prod-certs", "/srv/ssl-mgr", ""),
            ("/srv/ssl-mgr/prod-certs", "/srv/ssl-mgr", ""),
            ("/srv/ssl-mgr/certs-prod", "/srv/ssl-mgr", ""),
            ("/var/lib/ssl-mgr", "/srv/ssl-mgr", ""),
        ])
    func productionDirectory(path: String, topdir: String, problem: String) {
        let found = ProductionDirectory.problem(path, topdir: topdir)
        if problem.isEmpty {
            #expect(found == nil)
        } else {
            #expect(found?.contains(problem) == true, "\(found ?? "nil")")
        }
    }

    @Test(
        "reserved service names",
        arguments: [
            ("tlsa.example.com", true), ("TLSA.x", true), ("acme-challenge.example.com", true), (".x", true),
            ("curr", true), ("Next", true), ("prev", true), ("tlsa", false), ("db", false), ("mail-tlsa.x", false),
            ("current", false),
        ])
    func reservedNames(name: String, reserved: Bool) {
        #expect((ServiceName.reservedProblem(name) != nil) == reserved)
    }

    @Test("the decoded NUL never reaches the config: the SAN is not cut short")
    func nulNotTruncated() throws {
        let topdir = try TestTopdir([
            "example.com/mail": replacing(
                "example.com/mail", "'mail.example.com'", with: "\"www.example.net\\u0000.evil.com\"")
        ])
        let result = topdir.load()
        #expect(result.config == nil)
        #expect(!result.diagnostics.map(\.description).joined().contains("www.example.net\""))
    }
}

@Suite("NUL escapes are found where TOML decodes them, and only there")
struct NULEscapeTests {
    @Test(arguments: [
        ("a = \"x\\u0000y\"", "a = \"x\\uFFFFy\""),
        ("a = \"x\\U00000000y\"", "a = \"x\\uFFFFy\""),
        ("a = \"\"\"x\n\\u0000\"\"\"", "a = \"\"\"x\n\\uFFFF\"\"\""),
        ("\"k\\u0000\" = 1", "\"k\\uFFFF\" = 1"),
        ("a = 'x\\u0000y'", "a = 'x\\u0000y'"),
        ("a = '''x\\u0000'''", "a = '''x\\u0000'''"),
        ("# \"\\u0000\"\na = 1", "# \"\\u0000\"\na = 1"),
        ("a = \"x\\\\u0000\"", "a = \"x\\\\u0000\""),
        ("a = \"\\u00001\"", "a = \"\\uFFFF1\""),
        ("a = \"\\u0001\"", "a = \"\\u0001\""),
    ])
    func marked(input: String, expected: String) {
        #expect(NULEscapes.marked(input) == expected)
    }

    /// The byte scan that lets `marked` skip a file: it finds every escape form, at the very end too, and
    /// passes text that only has zeros (service names such as `s0001`) or backslashes without NUL escapes.
    @Test(arguments: [
        ("a = \"x\\u0000\"", true),
        ("a = \"\\U00000000\"", true),
        ("a = \"\\x00", true),
        ("\\x00", true),
        ("a = '\\u0000'", true),
        ("service = 's0001'\nname = 'x 2000'", false),
        ("a = \"\\u0001 \\x01 \\U0000000A\"", false),
        ("a = \"\\x0\"", false),
        ("a = \"\\u000", false),
        ("", false),
    ])
    func preCheck(input: String, mayHold: Bool) {
        #expect(NULEscapes.mayHoldNULEscape(input) == mayHold)
        if !mayHold { #expect(NULEscapes.marked(input) == input) }
    }
}
