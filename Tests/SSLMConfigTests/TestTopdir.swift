import Foundation
import SSLMConfig
import SSLMCore

/// A throw-away topdir with a small, valid configuration that tests modify file by file.
final class TestTopdir {
    let path: String

    /// The baseline: a root and an intermediate local CA, and example.com/mail with DANE on port 25.
    static let baseline: [String: String] = [
        "ssl-mgr.conf": """
            [globals]
            prod_cert_dir = 'prod'
            logdir = 'logs'
            dns_xtra_ns = []

            [[groups]]
            domain = 'ca'
            services = ['root', 'int']
            active = true

            [[groups]]
            domain = 'example.com'
            services = ['mail']
            active = true

            [[dns_primary]]
            domain = 'default'
            server = '127.0.0.1'
            port = 5053

            [dns]
            tlsa_dirs = ['dns/tlsa']
            """,
        "ca-info.conf": """
            [root]
            ca_type = 'self'
            [int]
            ca_type = 'local'
            """,
        "ca/root": """
            name = 'Root'
            group = 'ca'
            service = 'root'
            signing_ca = 'self'
            [KeyOpts]
            ktype = 'ec'
            [X509]
            CN = 'Test Root CA'
            O = 'Test'
            C = 'US'
            [CA]
            sign_end_days = 3650
            digest = 'sha384'
            """,
        "ca/int": """
            name = 'Intermediate'
            group = 'ca'
            service = 'int'
            signing_ca = 'root'
            [KeyOpts]
            ktype = 'ec'
            [X509]
            CN = 'Test Intermediate CA'
            O = 'Test'
            C = 'US'
            [CA]
            sign_end_days = 90
            digest = 'sha256'
            """,
        "example.com/mail": """
            name = 'Mail'
            group = 'example.com'
            service = 'mail'
            signing_ca = 'int'
            dane_tls = [[25, 'tcp', 3, 1, 1]]
            [KeyOpts]
            ktype = 'rsa'
            rsa_bits = 2048
            [X509]
            CN = 'example.com'
            O = 'Example'
            C = 'US'
            sans = ['mail.example.com', 'example.com']
            """,
    ]

    /// Creates the topdir with `baseline` overridden by `files` (a nil value deletes that file).
    init(_ files: [String: String?] = [:], baseline: [String: String] = TestTopdir.baseline) throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("sslm-test-\(UUID().uuidString)").path
        var merged: [String: String?] = baseline.mapValues { $0 }
        for (name, content) in files { merged[name] = content }
        for (name, content) in merged {
            guard let content else { continue }
            try write(name, content)
        }
        try FileManager.default.createDirectory(atPath: path + "/conf.d", withIntermediateDirectories: true)
    }

    func write(_ name: String, _ content: String) throws {
        let file = path + "/conf.d/" + name
        try FileManager.default.createDirectory(atPath: (file as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try Data(content.utf8).write(to: URL(fileURLWithPath: file))
    }

    func load(extraTargets: [ServiceAddress] = []) -> ConfigLoadResult {
        ConfigLoader.load(topdir: path, extraTargets: extraTargets)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// Replaces the first occurrence of `old` in `text` (tests use it to derive a bad file from the baseline).
func replacing(_ file: String, _ old: String, with new: String) -> String {
    guard let text = TestTopdir.baseline[file], let range = text.range(of: old) else {
        return "# replacing(\(file)): \(old) not found"
    }
    return text.replacingCharacters(in: range, with: new)
}

func appending(_ file: String, _ extra: String) -> String {
    (TestTopdir.baseline[file] ?? "") + "\n" + extra + "\n"
}
