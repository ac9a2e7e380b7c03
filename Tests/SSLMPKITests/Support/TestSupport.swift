import Foundation
import SSLMCore
import SSLMPKI
import SSLMTestSupport
import X509

/// Runs the real openssl CLI with an argv (no shell), through `ScriptRunner`; stdout as bytes (DER).
enum OpenSSL {
    static let path = "/usr/bin/openssl"

    struct Result {
        var status: Int32
        var stdout: [UInt8]
        var stderr: String
        var text: String { String(decoding: stdout, as: UTF8.self) }
    }

    @discardableResult
    static func run(_ arguments: [String], stdin: [UInt8]? = nil) throws -> Result {
        let outcome = try ScriptRunner.run([path] + arguments, stdin: stdin.map { Data($0) })
        return Result(status: outcome.status, stdout: outcome.stdoutBytes, stderr: outcome.stderr)
    }
}

/// A fixed "now" for every test: 2027-01-15T12:00:00Z.
let fixedNow = Date(timeIntervalSince1970: 1_800_014_400)

/// A tiny local PKI: root (self-signed) → intermediate → leaf, all of one key type.
struct TinyPKI {
    var rootKey: KeyPair
    var root: Certificate
    var intermediateKey: KeyPair
    var intermediate: Certificate
    var leafKey: KeyPair
    var leafRequest: CertificateSigningRequest
    var leaf: Certificate

    static func make(
        root rootSpec: KeySpec, intermediate intermediateSpec: KeySpec? = nil, leaf leafSpec: KeySpec? = nil,
        now: Date = fixedNow, leafNames: [String] = ["www.example.com", "*.example.com", "192.0.2.7", "2001:db8::1"]
    ) throws -> TinyPKI {
        let rootKey = try KeyPair.generate(rootSpec)
        let rootCSR = try CertificateRequestBuilder.make(
            subject: SubjectFields(commonName: "Test Root CA", organization: "sslm tests", country: "US"),
            key: rootKey, role: .certificateAuthority)
        let root = try LocalSigner.selfSign(
            request: rootCSR, key: rootKey, role: .certificateAuthority,
            policy: SigningPolicy(validityDays: 3650, digest: .sha384), now: now)
        let intermediateKey = try KeyPair.generate(intermediateSpec ?? rootSpec)
        let intermediateCSR = try CertificateRequestBuilder.make(
            subject: SubjectFields(commonName: "Test Intermediate CA", organization: "sslm tests", country: "US"),
            key: intermediateKey, role: .certificateAuthority)
        let rootSigner = try LocalSigner(
            certificate: root, key: rootKey, policy: SigningPolicy(validityDays: 1825, digest: .sha384))
        let intermediate = try rootSigner.sign(request: intermediateCSR, role: .certificateAuthority, now: now)
        let leafKey = try KeyPair.generate(leafSpec ?? rootSpec)
        let leafRequest = try CertificateRequestBuilder.make(
            subject: SubjectFields(
                commonName: "example.com", organization: "Example", organizationalUnit: "", locality: "",
                stateOrProvince: "", country: "US", email: "", subjectAlternativeNames: leafNames),
            key: leafKey, role: .leaf)
        let intermediateSigner = try LocalSigner(
            certificate: intermediate, key: intermediateKey, policy: SigningPolicy(validityDays: 90, digest: .sha256))
        let leaf = try intermediateSigner.sign(request: leafRequest, role: .leaf, now: now)
        return TinyPKI(
            rootKey: rootKey, root: root, intermediateKey: intermediateKey, intermediate: intermediate,
            leafKey: leafKey, leafRequest: leafRequest, leaf: leaf)
    }
}

let keySpecsUnderTest: [KeySpec] = [.ec(.secp256r1), .ec(.secp384r1), .ec(.secp521r1), .rsa(bits: 2048), .ed25519]
