import Foundation
import SSLMConfig
import SSLMCore
import SSLMObserve
import SSLMPKI
import SSLMTestSupport
import Testing
import X509

/// A throw-away topdir (`ScratchTopdir`): a minimal conf.d (a local root CA `ca/root`, `example.com/mail`
/// with DANE on port 25 (MX owners) and `example.com/web` with DANE on 443 (SAN owners)), and helpers that
/// write real db directories, links and production copies made with SSLMPKI.
final class ObserveFixture: ScratchTopdir, @unchecked Sendable {
    let rootKey: KeyPair
    let rootCertificate: Certificate
    let rootPEM: String

    static let mail = ServiceAddress(group: "example.com", service: "mail")
    static let web = ServiceAddress(group: "example.com", service: "web")
    static let root = ServiceAddress(group: "ca", service: "root")

    static let confFiles: [String: String] = [
        "ssl-mgr.conf": ScratchTopdir.mainConf(groups: ["ca": ["root"], "example.com": ["mail", "web"]]),
        "ca-info.conf": ScratchTopdir.localCAInfo(intermediate: false),
        "ca/root": ScratchTopdir.rootCAConf(ecAlgorithm: "secp256r1", digest: "sha256"),
        "example.com/mail": ScratchTopdir.serviceConf(
            name: "Mail", group: "example.com", service: "mail", signer: "root", dane: "[[25, 'tcp', 3, 1, 1]]",
            key: ["ktype = 'ec'", "ec_algo = 'secp256r1'"], commonName: "example.com", organization: "Example",
            sans: ["mail.example.com"]),
        "example.com/web": ScratchTopdir.serviceConf(
            name: "Web", group: "example.com", service: "web", signer: "root", dane: "[[443, 'tcp', 3, 1, 1]]",
            extra: ["dane_tls_ttl = 600"], key: ["ktype = 'ec'", "ec_algo = 'secp256r1'"], commonName: "example.com",
            organization: "Example", sans: ["www.example.com"]),
    ]

    init(conf: [String: String] = ObserveFixture.confFiles) throws {
        rootKey = try KeyPair.generate(.ec(.secp256r1))
        let request = try CertificateRequestBuilder.make(
            subject: SubjectFields(commonName: "Test Root CA", organization: "Test", country: "US"), key: rootKey,
            role: .certificateAuthority)
        rootCertificate = try LocalSigner.selfSign(
            request: request, key: rootKey, role: .certificateAuthority, policy: SigningPolicy(validityDays: 3650),
            now: Date())
        rootPEM = try CertificatePEM.encode(rootCertificate)
        try super.init("sslm-observe")
        try writeConf(conf)
    }

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
