import Foundation
import SSLMCore
import SSLMPKI
import Testing
import X509

/// The certificate fixtures of the CLI golden tests (Tests/SSLMCLITests/Fixtures/Tools), made by sslm
/// itself at a fixed "now" (2027-01-15T12:00:00Z). ECDSA signatures are randomised, so they are
/// committed, not regenerated on each run. `SSLM_RECORD_GOLDEN=1 swift test` rewrites them (then
/// re-record the CLI goldens in the same run or the next).
@Suite("CLI fixtures")
struct FixtureRecorder {
    static var fixtureDirectory: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("SSLMCLITests/Fixtures/Tools").path
    }

    static var recording: Bool { ProcessInfo.processInfo.environment["SSLM_RECORD_GOLDEN"] == "1" }

    @Test("fixtures are present and consistent (re-recorded with SSLM_RECORD_GOLDEN=1)")
    func fixtures() throws {
        let base = Self.fixtureDirectory
        if Self.recording { try Self.record(base) }
        let ok = base + "/ok"
        #expect(try KeyCertificateMatch.matches(keyPath: ok + "/privkey.pem", certificatePath: ok + "/cert.pem"))
        let chain = try CertificatePEM.read(path: ok + "/chain.pem")
        #expect(chain.count == 2)
        let leaf = try CertificateFacts.read(path: ok + "/cert.pem")
        #expect(leaf.notBefore == fixedNow)
        #expect(try CertificatePEM.read(path: base + "/selfsigned/cert.pem").count == 1)
    }

    static func record(_ base: String) throws {
        let fm = FileManager.default
        try? fm.removeItem(atPath: base)
        for sub in ["ok", "selfsigned", "wrongchain", "tampered", "malformed"] {
            try fm.createDirectory(atPath: base + "/" + sub, withIntermediateDirectories: true)
        }
        let pki = try TinyPKI.make(
            root: .ec(.secp384r1), intermediate: .rsa(bits: 2048), leaf: .ec(.secp256r1),
            leafNames: ["www.example.com", "mail.example.com", "*.dev.example.com", "192.0.2.7", "2001:db8::7"])
        let caFullchain = try CertificatePEM.encode([pki.intermediate, pki.root])
        let files = try CertificateFileSet.signedByLocalCA(
            key: pki.leafKey, request: pki.leafRequest, certificate: pki.leaf, signerFullchainPEM: caFullchain)
        try files.write(to: base + "/ok")

        // A self-signed leaf (signing_ca = self) with an Ed25519 key.
        let selfKey = try KeyPair.generate(.ed25519)
        let selfCSR = try CertificateRequestBuilder.make(
            subject: SubjectFields(
                commonName: "self.example.net", country: "DE", subjectAlternativeNames: ["self.example.net"]),
            key: selfKey, role: .leaf)
        let selfCert = try LocalSigner.selfSign(
            request: selfCSR, key: selfKey, role: .leaf, policy: SigningPolicy(validityDays: 365), now: fixedNow)
        try CertificateFileSet.selfSigned(key: selfKey, request: selfCSR, certificate: selfCert)
            .write(to: base + "/selfsigned")

        // The right leaf with another PKI's chain.
        let other = try TinyPKI.make(root: .ec(.secp256r1))
        try AtomicFile.write(text: try CertificatePEM.encode(pki.leaf), to: base + "/wrongchain/cert.pem")
        try AtomicFile.write(
            text: try CertificatePEM.encode([other.intermediate, other.root]), to: base + "/wrongchain/chain.pem")

        // The leaf with one bit of its signature flipped.
        var der = try CertificatePEM.der(pki.leaf)
        der[der.count - 5] ^= 0x01
        try AtomicFile.write(
            text: PEMBlock(label: "CERTIFICATE", derBytes: der).pemText, to: base + "/tampered/cert.pem")
        try AtomicFile.write(text: caFullchain, to: base + "/tampered/chain.pem")

        // Malformed inputs.
        let certPEM = try CertificatePEM.encode(pki.leaf)
        let lines = certPEM.split(separator: "\n")
        try AtomicFile.write(
            text: lines.prefix(lines.count / 2).joined(separator: "\n") + "\n",
            to: base + "/malformed/truncated.pem")
        var garbage = SystemRandomNumberGenerator()
        try AtomicFile.write(
            (0..<512).map { _ in UInt8.random(in: 0...255, using: &garbage) } + [0],
            to: base + "/malformed/garbage.bin")
        try AtomicFile.write(
            text: try other.leafKey.pkcs8PEM() + files.fullchainPEM,
            to: base + "/malformed/mismatch-bundle.pem")
        try AtomicFile.write(
            text: files.fullchainPEM + files.privateKeyPEM,
            to: base + "/malformed/wrongorder-bundle.pem")
    }
}
