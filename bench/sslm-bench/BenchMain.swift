import Foundation
import SSLMCore
import SSLMPKI
import X509

/// Benchmark harness (see bench/README.md). Figures are printed, never asserted.
///
/// `sslm-bench pki [--seconds S]`: per key type, key generations per second, full local chains per second
/// (root → intermediate → leaf, keys included) and leaf issuances per second (CSR + signature by an
/// existing intermediate, leaf key generated beforehand).
@main
enum BenchMain {
    static func main() throws {
        var arguments = Array(CommandLine.arguments.dropFirst())
        guard arguments.first == "pki" else {
            print("usage: sslm-bench pki [--seconds S]")
            return
        }
        arguments.removeFirst()
        var seconds = 2.0
        if let index = arguments.firstIndex(of: "--seconds"), index + 1 < arguments.count,
            let value = Double(arguments[index + 1])
        {
            seconds = value
        }
        try PKIBenchmark(secondsPerMeasurement: seconds).run()
    }
}

struct PKIBenchmark {
    let secondsPerMeasurement: Double
    let specs: [KeySpec] = [
        .ec(.secp256r1), .ec(.secp384r1), .ec(.secp521r1), .ed25519, .rsa(bits: 2048), .rsa(bits: 4096),
    ]
    let now = Date(timeIntervalSince1970: 1_800_014_400)

    /// Runs `body` repeatedly for at least `secondsPerMeasurement` and 3 iterations; returns operations/s.
    func rate(_ body: () throws -> Void) rethrows -> (perSecond: Double, iterations: Int) {
        let clock = ContinuousClock()
        let start = clock.now
        var iterations = 0
        var elapsed: Duration = .zero
        repeat {
            try body()
            iterations += 1
            elapsed = clock.now - start
        } while elapsed < .seconds(secondsPerMeasurement) || iterations < 3
        let secs = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return (Double(iterations) / secs, iterations)
    }

    func run() throws {
        print(
            "sslm-bench pki — \(ProcessInfo.processInfo.activeProcessorCount) cores, single thread, "
                + "≥ \(secondsPerMeasurement) s per figure")
        print(pad("key type", 12) + pad("keys/s", 12) + pad("chains/s", 12) + pad("leaves/s", 12))
        for spec in specs {
            let keys = try rate { _ = try KeyPair.generate(spec) }
            let chains = try rate { _ = try issueChain(spec) }
            let ca = try issueChain(spec)
            let leafKey = try KeyPair.generate(spec)
            let leaves = try rate { _ = try issueLeaf(key: leafKey, signer: ca.signer) }
            print(
                pad(spec.description, 12) + pad(format(keys.perSecond), 12) + pad(format(chains.perSecond), 12)
                    + pad(format(leaves.perSecond), 12))
        }
    }

    func issueChain(_ spec: KeySpec) throws -> (signer: LocalSigner, leaf: Certificate) {
        let rootKey = try KeyPair.generate(spec)
        let rootCSR = try CertificateRequestBuilder.make(
            subject: SubjectFields(commonName: "Bench Root", country: "US"), key: rootKey, role: .certificateAuthority)
        let root = try LocalSigner.selfSign(
            request: rootCSR, key: rootKey, role: .certificateAuthority,
            policy: SigningPolicy(validityDays: 3650), now: now)
        let rootSigner = try LocalSigner(certificate: root, key: rootKey, policy: SigningPolicy(validityDays: 1825))
        let intKey = try KeyPair.generate(spec)
        let intCSR = try CertificateRequestBuilder.make(
            subject: SubjectFields(commonName: "Bench Intermediate", country: "US"), key: intKey,
            role: .certificateAuthority)
        let intermediate = try rootSigner.sign(request: intCSR, role: .certificateAuthority, now: now)
        let signer = try LocalSigner(certificate: intermediate, key: intKey, policy: SigningPolicy(validityDays: 90))
        let leaf = try issueLeaf(key: KeyPair.generate(spec), signer: signer)
        return (signer, leaf)
    }

    func issueLeaf(key: KeyPair, signer: LocalSigner) throws -> Certificate {
        let csr = try CertificateRequestBuilder.make(
            subject: SubjectFields(commonName: "www.example.com", subjectAlternativeNames: ["example.com"]), key: key,
            role: .leaf)
        return try signer.sign(request: csr, role: .leaf, now: now)
    }

    func pad(_ text: String, _ width: Int) -> String { text.padding(toLength: width, withPad: " ", startingAt: 0) }

    func format(_ value: Double) -> String {
        value >= 100 ? String(format: "%.0f", value) : String(format: "%.2f", value)
    }
}
