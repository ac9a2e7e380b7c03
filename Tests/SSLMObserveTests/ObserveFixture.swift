import Foundation
import SSLMConfig
import SSLMCore
import SSLMObserve
import SSLMPKI
import Testing
import X509

/// A throw-away topdir: a minimal conf.d (a local root CA `ca/root`, `example.com/mail` with DANE on port
/// 25 (MX owners) and `example.com/web` with DANE on 443 (SAN owners)), and helpers that write real
/// db directories, links and production copies made with SSLMPKI.
final class ObserveFixture {
    let path: String
    let rootKey: KeyPair
    let rootCertificate: Certificate
    let rootPEM: String

    static let mail = ServiceAddress(group: "example.com", service: "mail")
    static let web = ServiceAddress(group: "example.com", service: "web")
    static let root = ServiceAddress(group: "ca", service: "root")

    static let confFiles: [String: String] = [
        "ssl-mgr.conf": """
        [globals]
        prod_cert_dir = 'prod'
        logdir = 'logs'
        dns_xtra_ns = []

        [[groups]]
        domain = 'ca'
        services = ['root']
        active = true

        [[groups]]
        domain = 'example.com'
        services = ['mail', 'web']
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
        """,
        "ca/root": """
        name = 'Root'
        group = 'ca'
        service = 'root'
        signing_ca = 'self'
        [KeyOpts]
        ktype = 'ec'
        ec_algo = 'secp256r1'
        [X509]
        CN = 'Test Root CA'
        O = 'Test'
        C = 'US'
        [CA]
        sign_end_days = 3650
        digest = 'sha256'
        """,
        "example.com/mail": """
        name = 'Mail'
        group = 'example.com'
        service = 'mail'
        signing_ca = 'root'
        dane_tls = [[25, 'tcp', 3, 1, 1]]
        [KeyOpts]
        ktype = 'ec'
        ec_algo = 'secp256r1'
        [X509]
        CN = 'example.com'
        O = 'Example'
        C = 'US'
        sans = ['mail.example.com']
        """,
        "example.com/web": """
        name = 'Web'
        group = 'example.com'
        service = 'web'
        signing_ca = 'root'
        dane_tls = [[443, 'tcp', 3, 1, 1]]
        dane_tls_ttl = 600
        [KeyOpts]
        ktype = 'ec'
        ec_algo = 'secp256r1'
        [X509]
        CN = 'example.com'
        O = 'Example'
        C = 'US'
        sans = ['www.example.com']
        """,
    ]

    init(conf: [String: String] = ObserveFixture.confFiles) throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("sslm-observe-\(UUID().uuidString)").path
        rootKey = try KeyPair.generate(.ec(.secp256r1))
        let request = try CertificateRequestBuilder.make(
            subject: SubjectFields(commonName: "Test Root CA", organization: "Test", country: "US"), key: rootKey,
            role: .certificateAuthority)
        rootCertificate = try LocalSigner.selfSign(
            request: request, key: rootKey, role: .certificateAuthority, policy: SigningPolicy(validityDays: 3650),
            now: Date())
        rootPEM = try CertificatePEM.encode(rootCertificate)
        for (name, content) in conf { try write("conf.d/" + name, content) }
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func config() throws -> Config {
        let result = ConfigLoader.load(topdir: path)
        #expect(!result.diagnostics.hasErrors, "\(result.diagnostics)")
        return try #require(result.config)
    }

    func observe(
        services: [ServiceAddress]? = nil, dns: [DNSFacts] = [], config: Config? = nil
    ) throws -> Observation {
        let config = try config ?? self.config()
        return Observer.observe(
            config: config, services: services ?? Array(config.services.keys), dns: dns, localHostNames: ["host"])
    }

    // MARK: files

    func write(_ relative: String, _ content: String) throws {
        try write(relative, Array(content.utf8))
    }

    func write(_ relative: String, _ bytes: [UInt8]) throws {
        let file = path + "/" + relative
        try FileManager.default.createDirectory(
            atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: file))
    }

    func read(_ relative: String) throws -> String {
        try String(contentsOfFile: path + "/" + relative, encoding: .utf8)
    }

    func mkdir(_ relative: String) throws {
        try FileManager.default.createDirectory(atPath: path + "/" + relative, withIntermediateDirectories: true)
    }

    func symlink(_ relative: String, to target: String) throws {
        try? FileManager.default.removeItem(atPath: path + "/" + relative)
        try FileManager.default.createSymbolicLink(atPath: path + "/" + relative, withDestinationPath: target)
    }

    func remove(_ relative: String) throws { try FileManager.default.removeItem(atPath: path + "/" + relative) }

    /// Flips one byte of a file.
    func flipByte(_ relative: String, at offset: Int = 40) throws {
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path + "/" + relative)))
        bytes[offset] = bytes[offset] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        try write(relative, bytes)
    }

    // MARK: certificate trees

    static func serviceDir(_ address: ServiceAddress) -> String { "certs/\(address.group)/\(address.service)" }

    /// Writes a complete db directory (key, CSR, cert signed by the root, chain, fullchain, bundle, info)
    /// and returns the leaf.
    @discardableResult
    func makeDBDir(_ address: ServiceAddress, _ name: String, sans: [String]? = nil) throws -> Certificate {
        let directory = Self.serviceDir(address) + "/db/" + name
        try mkdir(directory)
        if address == Self.root {
            let set = try CertificateFileSet.selfSigned(key: rootKey, request: nil, certificate: rootCertificate)
            try set.write(to: path + "/" + directory)
            return rootCertificate
        }
        let key = try KeyPair.generate(.ec(.secp256r1))
        let request = try CertificateRequestBuilder.make(
            subject: SubjectFields(
                commonName: "example.com", subjectAlternativeNames: sans ?? defaultSANs(address)),
            key: key, role: .leaf)
        let signer = try LocalSigner(
            certificate: rootCertificate, key: rootKey, policy: SigningPolicy(validityDays: 90))
        let leaf = try signer.sign(request: request, role: .leaf, now: Date())
        let set = try CertificateFileSet.signedByLocalCA(
            key: key, request: request, certificate: leaf, signerFullchainPEM: rootPEM)
        try set.write(to: path + "/" + directory)
        try write(directory + "/info", "# \(address.service) rolled to curr : \(name)\n")
        return leaf
    }

    func defaultSANs(_ address: ServiceAddress) -> [String] {
        address.service == "web" ? ["www.example.com"] : ["mail.example.com"]
    }

    /// `curr`/`next`/`prev` → `db/<name>` (relative, as ssl-mgr writes it).
    func link(_ address: ServiceAddress, _ link: String, _ name: String) throws {
        try symlink(Self.serviceDir(address) + "/" + link, to: "db/" + name)
    }

    /// Copies the production files of a db directory into `<prod>/<g>/<s>/<slot>/`.
    func copyToProduction(_ address: ServiceAddress, _ name: String, slot: String = "curr") throws {
        let source = path + "/" + Self.serviceDir(address) + "/db/" + name
        let target = "prod/\(address.group)/\(address.service)/\(slot)"
        try? remove(target)
        try mkdir(target)
        for file in try FileManager.default.contentsOfDirectory(atPath: source)
        where ProductionLayout.includes(fileName: file, group: address.group) {
            try FileManager.default.copyItem(atPath: source + "/" + file, toPath: path + "/" + target + "/" + file)
        }
    }
}

let ts1 = "20260101-10:00:00"
let ts2 = "20260201-10:00:00"
let ts3 = "20260301-10:00:00"
