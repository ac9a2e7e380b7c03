import Foundation
import SSLMConfig
import SSLMCore
import Testing

/// One broken configuration and the diagnostic it must produce.
struct BadConfigCase: CustomTestStringConvertible, Sendable {
    let name: String
    let files: [String: String?]
    let file: String
    let table: String?
    let key: String?
    let messageContains: String

    var testDescription: String { name }
}

private let main = "conf.d/ssl-mgr.conf"
private let caInfo = "conf.d/ca-info.conf"
private let mail = "conf.d/example.com/mail"

let badConfigCases: [BadConfigCase] = [
    .init(
        name: "unknown EC curve",
        files: [
            "example.com/mail": replacing(
                "example.com/mail", "ktype = 'rsa'\nrsa_bits = 2048", with: "ktype = 'ec'\nec_algo = 'secp999r1'")
        ],
        file: mail, table: "KeyOpts", key: "ec_algo",
        messageContains: "unknown curve \"secp999r1\" (expected one of secp256r1, secp384r1, secp521r1)"),
    .init(
        name: "RSA below 2048 bits",
        files: ["example.com/mail": replacing("example.com/mail", "rsa_bits = 2048", with: "rsa_bits = 1024")],
        file: mail, table: "KeyOpts", key: "rsa_bits", messageContains: "1024 is out of range"),
    .init(
        name: "RSA bits of the wrong type",
        files: ["example.com/mail": replacing("example.com/mail", "rsa_bits = 2048", with: "rsa_bits = true")],
        file: mail, table: "KeyOpts", key: "rsa_bits", messageContains: "expected an integer, found a boolean"),
    .init(
        name: "unknown key type",
        files: ["example.com/mail": replacing("example.com/mail", "ktype = 'rsa'", with: "ktype = 'dsa'")],
        file: mail, table: "KeyOpts", key: "ktype", messageContains: "unknown key type \"dsa\""),
    .init(
        name: "Ed25519 for a server certificate",
        files: ["example.com/mail": replacing("example.com/mail", "ktype = 'rsa'", with: "ktype = 'ed25519'")],
        file: mail, table: "KeyOpts", key: "ktype", messageContains: "only for local CAs"),
    .init(
        name: "missing CN",
        files: ["example.com/mail": replacing("example.com/mail", "CN = 'example.com'\n", with: "")],
        file: mail, table: "X509", key: "CN", messageContains: "missing"),
    .init(
        name: "missing O", files: ["example.com/mail": replacing("example.com/mail", "O = 'Example'\n", with: "")],
        file: mail, table: "X509", key: "O", messageContains: "missing"),
    .init(
        name: "missing C", files: ["example.com/mail": replacing("example.com/mail", "C = 'US'\n", with: "")],
        file: mail, table: "X509", key: "C", messageContains: "missing"),
    .init(
        name: "country not two letters",
        files: ["example.com/mail": replacing("example.com/mail", "C = 'US'", with: "C = 'USA'")],
        file: mail, table: "X509", key: "C", messageContains: "two-letter country code"),
    .init(
        name: "CN longer than 64",
        files: [
            "example.com/mail": replacing(
                "example.com/mail", "CN = 'example.com'", with: "CN = '\(String(repeating: "a", count: 70)).com'")
        ],
        file: mail, table: "X509", key: "CN", messageContains: "limit is 64"),
    .init(
        name: "IP network in sans",
        files: ["example.com/mail": replacing("example.com/mail", "'mail.example.com'", with: "'10.0.0.0/8'")],
        file: mail, table: "X509", key: "sans", messageContains: "is a network or path"),
    .init(
        name: "malformed host in sans",
        files: ["example.com/mail": replacing("example.com/mail", "'mail.example.com'", with: "'mail..example.com'")],
        file: mail, table: "X509", key: "sans", messageContains: "empty label"),
    .init(
        name: "missing name", files: ["example.com/mail": replacing("example.com/mail", "name = 'Mail'\n", with: "")],
        file: mail, table: nil, key: "name", messageContains: "missing"),
    .init(
        name: "group does not match the directory",
        files: [
            "example.com/mail": replacing("example.com/mail", "group = 'example.com'", with: "group = 'example.org'")
        ],
        file: mail, table: nil, key: "group", messageContains: "does not match the directory \"example.com\""),
    .init(
        name: "service does not match the file name",
        files: ["example.com/mail": replacing("example.com/mail", "service = 'mail'", with: "service = 'web'")],
        file: mail, table: nil, key: "service", messageContains: "does not match the file name \"mail\""),
    .init(
        name: "missing group key",
        files: ["example.com/mail": replacing("example.com/mail", "group = 'example.com'\n", with: "")],
        file: mail, table: nil, key: "group", messageContains: "missing"),
    .init(
        name: "signing_ca names no CA",
        files: ["example.com/mail": replacing("example.com/mail", "signing_ca = 'int'", with: "signing_ca = 'nosuch'")],
        file: mail, table: nil, key: "signing_ca", messageContains: "no CA named \"nosuch\""),
    .init(
        name: "local CA without its service file", files: ["ca/int": nil],
        file: main, table: "groups[1]", key: "services", messageContains: "conf.d/ca/int does not exist"),
    .init(
        name: "local CA not in any group and without a file",
        files: ["ca-info.conf": TestTopdir.baselineCAInfo + "\n[other]\nca_type = 'local'\n"],
        file: caInfo, table: "other", key: "ca_type", messageContains: "conf.d/ca/other does not exist"),
    .init(
        name: "signer without [CA]",
        files: ["ca/int": replacing("ca/int", "[CA]\nsign_end_days = 90\ndigest = 'sha256'", with: "")],
        file: "conf.d/ca/int", table: "CA", key: nil, messageContains: "missing"),
    .init(
        name: "[CA] without sign_end_days", files: ["ca/int": replacing("ca/int", "sign_end_days = 90\n", with: "")],
        file: "conf.d/ca/int", table: "CA", key: "sign_end_days", messageContains: "missing"),
    .init(
        name: "sign_end_days below 1",
        files: ["ca/int": replacing("ca/int", "sign_end_days = 90", with: "sign_end_days = -1")],
        file: "conf.d/ca/int", table: "CA", key: "sign_end_days", messageContains: "expected 1 or more days"),
    .init(
        name: "unknown digest", files: ["ca/int": replacing("ca/int", "digest = 'sha256'", with: "digest = 'md5'")],
        file: "conf.d/ca/int", table: "CA", key: "digest", messageContains: "unknown digest \"md5\""),
    .init(
        name: "local CAs signing each other",
        files: ["ca/root": replacing("ca/root", "signing_ca = 'self'", with: "signing_ca = 'int'")],
        file: "conf.d/ca/int", table: nil, key: "signing_ca", messageContains: "in a circle"),
    .init(
        name: "unknown ca_type", files: ["ca-info.conf": "[root]\nca_type = 'self'\n[int]\nca_type = 'magic'\n"],
        file: caInfo, table: "int", key: "ca_type", messageContains: "unknown CA type \"magic\""),
    .init(
        name: "ACME CA without validation",
        files: ["ca-info.conf": TestTopdir.baselineCAInfo + "\n[le]\nca_type = 'letsencrypt'\n"],
        file: caInfo, table: "le", key: "ca_validation", messageContains: "missing"),
    .init(
        name: "acme CA without directory URL",
        files: [
            "ca-info.conf": TestTopdir.baselineCAInfo
                + "\n[step]\nca_type = 'acme'\nca_validation = 'http-01'\n"
        ],
        file: caInfo, table: "step", key: "ca_directory_url", messageContains: "missing"),
    .init(
        name: "plain-http directory URL",
        files: [
            "ca-info.conf": TestTopdir.baselineCAInfo
                + "\n[step]\nca_type = 'acme'\nca_validation = 'dns-01'\nca_directory_url = 'http://ca.example/dir'\n"
        ],
        file: caInfo, table: "step", key: "ca_directory_url", messageContains: "must use https"),
    .init(
        name: "EAB key id without HMAC key",
        files: [
            "ca-info.conf": TestTopdir.baselineCAInfo
                + "\n[le]\nca_type = 'letsencrypt'\nca_validation = 'dns-01'\nca_eab_kid = 'kid-1'\n"
        ],
        file: caInfo, table: "le", key: "ca_eab_hmac_key", messageContains: "missing"),
    .init(
        name: "missing trust file",
        files: [
            "ca-info.conf": TestTopdir.baselineCAInfo
                + "\n[le]\nca_type = 'letsencrypt'\nca_validation = 'dns-01'\nca_trust_file = '/nonexistent/ca.pem'\n"
        ],
        file: caInfo, table: "le", key: "ca_trust_file", messageContains: "cannot read /nonexistent/ca.pem"),
    .init(
        name: "dns-01 without acme_dir",
        files: [
            "ca-info.conf": TestTopdir.baselineCAInfo
                + "\n[le]\nca_type = 'letsencrypt'\nca_validation = 'dns-01'\n",
            "example.com/mail": replacing("example.com/mail", "signing_ca = 'int'", with: "signing_ca = 'le'"),
        ],
        file: main, table: "dns", key: "acme_dir", messageContains: "dns-01"),
    .init(
        name: "dane_connect without a port",
        files: [
            "ssl-mgr.conf": replacing(
                "ssl-mgr.conf", "[dns]\n", with: "[dns]\ndane_connect = ['mail.example.com=127.0.0.1']\n")
        ],
        file: main, table: "dns", key: "dane_connect", messageContains: "expected 'HOST=ADDRESS:PORT'"),
    .init(
        name: "dane_roll_stuck_hours of 0",
        files: [
            "ssl-mgr.conf": replacing("ssl-mgr.conf", "[globals]\n", with: "[globals]\ndane_roll_stuck_hours = 0\n")
        ],
        file: main, table: "globals", key: "dane_roll_stuck_hours", messageContains: "out of range"),
    .init(
        name: "IP address SAN on a dns-01 CA",
        files: [
            "ca-info.conf": TestTopdir.baselineCAInfo
                + "\n[le]\nca_type = 'letsencrypt'\nca_validation = 'dns-01'\n",
            "example.com/mail": replacing("example.com/mail", "signing_ca = 'int'", with: "signing_ca = 'le'")
                .replacingOccurrences(of: "'example.com']", with: "'192.0.2.7']"),
        ],
        file: mail, table: "X509", key: "sans", messageContains: "192.0.2.7 is an IP address: dns-01"),
    .init(
        name: "http-01 without [web] server_dir",
        files: [
            "ca-info.conf": TestTopdir.baselineCAInfo
                + "\n[lehttp]\nca_type = 'letsencrypt'\nca_validation = 'http-01'\n",
            "example.com/mail": replacing("example.com/mail", "signing_ca = 'int'", with: "signing_ca = 'lehttp'"),
        ],
        file: main, table: "web", key: "server_dir", messageContains: "http-01"),
    .init(
        name: "DANE on MX hosts without a DNS primary",
        files: [
            "ssl-mgr.conf": replacing(
                "ssl-mgr.conf", "[[dns_primary]]\ndomain = 'default'\nserver = '127.0.0.1'\nport = 5053\n", with: "")
        ],
        file: main, table: nil, key: "dns_primary", messageContains: "no [[dns_primary]] entry for example.com"),
    .init(
        name: "dane_tls with 4 elements",
        files: [
            "example.com/mail": replacing("example.com/mail", "[[25, 'tcp', 3, 1, 1]]", with: "[[25, 'tcp', 3, 1]]")
        ],
        file: mail, table: nil, key: "dane_tls", messageContains: "expected 5 or 6 elements"),
    .init(
        name: "dane_tls usage out of range",
        files: [
            "example.com/mail": replacing("example.com/mail", "[[25, 'tcp', 3, 1, 1]]", with: "[[25, 'tcp', 4, 1, 1]]")
        ],
        file: mail, table: nil, key: "dane_tls", messageContains: "usage 4 is out of range"),
    .init(
        name: "dane_tls bad subtype",
        files: [
            "example.com/mail": replacing(
                "example.com/mail", "[[25, 'tcp', 3, 1, 1]]", with: "[[25, 'tcp', 3, 1, 1, 'NS']]")
        ],
        file: mail, table: nil, key: "dane_tls", messageContains: "must be 'MX' or 'SANS'"),
    .init(
        name: "dane_tls port as a string",
        files: [
            "example.com/mail": replacing(
                "example.com/mail", "[[25, 'tcp', 3, 1, 1]]", with: "[['25', 'tcp', 3, 1, 1]]")
        ],
        file: mail, table: nil, key: "dane_tls", messageContains: "port (element 1) must be an integer"),
    .init(
        name: "dane_tls single entry not wrapped",
        files: [
            "example.com/mail": replacing("example.com/mail", "[[25, 'tcp', 3, 1, 1]]", with: "[25, 'tcp', 3, 1, 1]")
        ],
        file: mail, table: nil, key: "dane_tls", messageContains: "wrap it in another [ ]"),
    .init(
        name: "no [[groups]]", files: ["ssl-mgr.conf": "[globals]\nprod_cert_dir = 'prod'\n"],
        file: main, table: nil, key: "groups", messageContains: "missing"),
    .init(
        name: "group name with a slash",
        files: [
            "ssl-mgr.conf": appending("ssl-mgr.conf", "[[groups]]\ndomain = 'a/b'\nservices = ['x']\nactive = true")
        ],
        file: main, table: "groups[3]", key: "domain", messageContains: "contains \"/\""),
    .init(
        name: "service name ..",
        files: ["ssl-mgr.conf": replacing("ssl-mgr.conf", "services = ['mail']", with: "services = ['..']")],
        file: main, table: "groups[2]", key: "services", messageContains: "not a usable file name"),
    .init(
        name: "service name with a control character",
        files: ["ssl-mgr.conf": replacing("ssl-mgr.conf", "services = ['mail']", with: "services = [\"ma\\u0007il\"]")],
        file: main, table: "groups[2]", key: "services", messageContains: "control character"),
    .init(
        name: "listed service file missing",
        files: ["ssl-mgr.conf": replacing("ssl-mgr.conf", "services = ['mail']", with: "services = ['mail', 'web']")],
        file: main, table: "groups[2]", key: "services", messageContains: "conf.d/example.com/web does not exist"),
    .init(
        name: "active group without directory",
        files: [
            "ssl-mgr.conf": appending(
                "ssl-mgr.conf", "[[groups]]\ndomain = 'example.org'\nservices = ['x']\nactive = true")
        ],
        file: main, table: "groups[3]", key: "domain", messageContains: "conf.d/example.org does not exist"),
    .init(
        name: "duplicate group",
        files: ["ssl-mgr.conf": appending("ssl-mgr.conf", "[[groups]]\ndomain = 'example.com'\nservices = ['mail']")],
        file: main, table: "groups[3]", key: "domain", messageContains: "appears twice"),
    .init(
        name: "clean_keep of the wrong type",
        files: [
            "ssl-mgr.conf": replacing("ssl-mgr.conf", "logdir = 'logs'", with: "logdir = 'logs'\nclean_keep = 'ten'")
        ],
        file: main, table: "globals", key: "clean_keep", messageContains: "expected an integer, found a string \"ten\""),
    .init(
        name: "verb not a boolean",
        files: ["ssl-mgr.conf": replacing("ssl-mgr.conf", "logdir = 'logs'", with: "logdir = 'logs'\nverb = 'yes'")],
        file: main, table: "globals", key: "verb", messageContains: "expected a boolean"),
    .init(
        name: "negative min_roll_mins",
        files: [
            "ssl-mgr.conf": replacing("ssl-mgr.conf", "logdir = 'logs'", with: "logdir = 'logs'\nmin_roll_mins = -5")
        ],
        file: main, table: "globals", key: "min_roll_mins", messageContains: "expected 0 or more minutes"),
    .init(
        name: "empty prod_cert_dir",
        files: ["ssl-mgr.conf": replacing("ssl-mgr.conf", "prod_cert_dir = 'prod'", with: "prod_cert_dir = ''")],
        file: main, table: "globals", key: "prod_cert_dir", messageContains: "must not be empty"),
    .init(
        name: "post_copy_cmd not pairs",
        files: [
            "ssl-mgr.conf": replacing(
                "ssl-mgr.conf", "logdir = 'logs'", with: "logdir = 'logs'\npost_copy_cmd = [['example.com']]")
        ],
        file: main, table: "globals", key: "post_copy_cmd", messageContains: "expected [host, command]"),
    .init(
        name: "dns_xtra_ns bad address",
        files: ["ssl-mgr.conf": replacing("ssl-mgr.conf", "dns_xtra_ns = []", with: "dns_xtra_ns = ['1.2.3.4:99999']")],
        file: main, table: "globals", key: "dns_xtra_ns", messageContains: "outside 1–65535"),
    .init(
        name: "dns_primary without server",
        files: ["ssl-mgr.conf": replacing("ssl-mgr.conf", "server = '127.0.0.1'\n", with: "")],
        file: main, table: "dns_primary[1]", key: "server", messageContains: "missing"),
    .init(
        name: "dns_primary bad port",
        files: ["ssl-mgr.conf": replacing("ssl-mgr.conf", "port = 5053", with: "port = 70000")],
        file: main, table: "dns_primary[1]", key: "port", messageContains: "expected a port 1–65535"),
    .init(
        name: "unknown depends token",
        files: ["ssl-mgr.conf": appending("ssl-mgr.conf", "[smtp]\nservers = []\ndepends = ['cert', 'zone']")],
        file: main, table: "smtp", key: "depends", messageContains: "unknown change \"zone\""),
    .init(
        name: "svc_depends pair not wrapped",
        files: ["ssl-mgr.conf": appending("ssl-mgr.conf", "[smtp]\nsvc_depends = ['example.com', ['mail']]")],
        file: main, table: "smtp", key: "svc_depends", messageContains: "wrap the pair"),
    .init(
        name: "server host starting with -",
        files: ["ssl-mgr.conf": appending("ssl-mgr.conf", "[web]\nservers = ['-oProxyCommand=x']")],
        file: main, table: "web", key: "servers", messageContains: "starts with \"-\""),
    .init(
        name: "renew_info key with a bad lifetime",
        files: ["ssl-mgr.conf": appending("ssl-mgr.conf", "[renew_info]\ntarget_ninety = 30")],
        file: main, table: "renew_info", key: "target_ninety", messageContains: "lifetime in days"),
    .init(
        name: "TOML syntax error", files: ["example.com/mail": "name = 'Mail\n"],
        file: mail, table: nil, key: nil, messageContains: "TOML syntax error at line 1"),
    .init(
        name: "binary file", files: ["ca-info.conf": "\u{0}\u{1}\u{2}garbage"],
        file: caInfo, table: nil, key: nil, messageContains: "NUL byte"),
    .init(
        name: "missing ssl-mgr.conf", files: ["ssl-mgr.conf": nil],
        file: main, table: nil, key: nil, messageContains: "missing"),
]

@Suite("Bad configurations name the file and key")
struct BadConfigTests {
    @Test("at least 25 distinct bad configurations are covered")
    func enoughCases() {
        #expect(badConfigCases.count >= 25)
        #expect(Set(badConfigCases.map(\.name)).count == badConfigCases.count)
    }

    @Test(arguments: badConfigCases)
    func reportsFileTableAndKey(_ testCase: BadConfigCase) throws {
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

    @Test("every problem of a run is reported, not only the first")
    func reportsAllProblems() throws {
        let topdir = try TestTopdir([
            "example.com/mail": replacing("example.com/mail", "C = 'US'", with: "C = 'USA'")
                .replacingOccurrences(of: "rsa_bits = 2048", with: "rsa_bits = 512"),
            "ca/int": replacing("ca/int", "digest = 'sha256'", with: "digest = 'md4'"),
        ])
        let errors = topdir.load().diagnostics.errors
        #expect(errors.contains { $0.key == "C" && $0.file == mail })
        #expect(errors.contains { $0.key == "rsa_bits" && $0.file == mail })
        #expect(errors.contains { $0.key == "digest" && $0.file == "conf.d/ca/int" })
    }

    @Test("the message reads file: [table] key: message")
    func renderedForm() throws {
        let topdir = try TestTopdir([
            "example.com/mail": replacing(
                "example.com/mail", "ktype = 'rsa'\nrsa_bits = 2048", with: "ktype = 'ec'\nec_algo = 'secp999r1'")
        ])
        let lines = topdir.load().diagnostics.map(\.description)
        #expect(
            lines.contains(
                "error: conf.d/example.com/mail: [KeyOpts] ec_algo: unknown curve \"secp999r1\" (expected one of secp256r1, secp384r1, secp521r1)"
            ))
    }

    @Test("the EAB HMAC key never appears in a message")
    func secretNotEchoed() throws {
        let secret = "not base64 !! very-secret-value"
        let topdir = try TestTopdir([
            "ca-info.conf": TestTopdir.baselineCAInfo
                + "\n[le]\nca_type = 'letsencrypt'\nca_validation = 'dns-01'\nca_eab_kid = 'k'\nca_eab_hmac_key = '\(secret)'\n"
        ])
        let text = topdir.load().diagnostics.map(\.description).joined(separator: "\n")
        #expect(text.contains("ca_eab_hmac_key"))
        #expect(!text.contains("very-secret-value"))
    }
}
