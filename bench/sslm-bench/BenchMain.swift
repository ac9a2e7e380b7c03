import Foundation
import SSLMCore
import SSLMPKI
import X509

/// Benchmark harness (see bench/README.md). Figures are printed, never asserted.
///
/// `sslm-bench pki [--seconds S]`: per key type, key generations per second, full local chains per second
/// (root → intermediate → leaf, keys included) and leaf issuances per second (CSR + signature by an
/// existing intermediate, leaf key generated beforehand).
///
/// `sslm-bench topdir --services N --out DIR [--in-sync] [--per-group K] [--dane-every K] [--now TIME]`:
/// writes a synthetic topdir of N services signed by a local CA (`TopdirGenerator`), for
/// `bench/plan-status.sh`.
///
/// `sslm-bench phases --topdir DIR [--runs R]`: the phases of `sslm plan` timed one by one (`PlanPhases`).
@main
enum BenchMain {
    static let usage = """
        usage: sslm-bench pki [--seconds S]
               sslm-bench topdir --services N --out DIR [--in-sync] [--per-group K] [--dane-every K] [--now TIME]
               sslm-bench phases --topdir DIR [--runs R]
        """

    static func main() {
        do {
            try run()
        } catch {
            FileHandle.standardError.write(Data("sslm-bench: \(error)\n".utf8))
            exit(1)
        }
    }

    static func run() throws {
        var arguments = Array(CommandLine.arguments.dropFirst())
        let command = arguments.first
        if !arguments.isEmpty { arguments.removeFirst() }
        switch command {
        case "pki":
            var seconds = 2.0
            if let value = try option("--seconds", in: arguments) {
                guard let parsed = Double(value), parsed > 0 else { throw usageError("--seconds: \(value)") }
                seconds = parsed
            }
            try PKIBenchmark(secondsPerMeasurement: seconds).run()
        case "phases":
            guard let topdir = try option("--topdir", in: arguments) else {
                throw usageError("--topdir DIR is required")
            }
            var runs = 3
            if let value = try option("--runs", in: arguments) {
                guard let parsed = Int(value), parsed > 0 else { throw usageError("--runs: \(value)") }
                runs = parsed
            }
            let absolute = topdir.hasPrefix("/") ? topdir : FileManager.default.currentDirectoryPath + "/" + topdir
            try PlanPhases(topdir: absolute, runs: runs).run()
        case "topdir":
            guard let servicesText = try option("--services", in: arguments), let services = Int(servicesText),
                services >= 0
            else { throw usageError("--services N is required (N >= 0)") }
            guard let out = try option("--out", in: arguments) else { throw usageError("--out DIR is required") }
            var generator = TopdirGenerator(
                services: services, inSync: arguments.contains("--in-sync"), out: out, now: Date())
            if let value = try option("--per-group", in: arguments) {
                guard let parsed = Int(value), parsed > 0, parsed <= 9999 else {
                    throw usageError("--per-group: \(value) (1...9999)")
                }
                generator.perGroup = parsed
            }
            if let value = try option("--dane-every", in: arguments) {
                guard let parsed = Int(value), parsed > 0 else { throw usageError("--dane-every: \(value)") }
                generator.daneEvery = parsed
            }
            if let value = try option("--now", in: arguments) {
                guard let parsed = Timestamps.parseRFC3339(value) else { throw usageError("--now: \(value)") }
                generator.now = parsed
            }
            try generator.run()
        default:
            print(usage)
            if command != nil && command != "-h" && command != "--help" { exit(64) }
        }
    }

    /// The value after `name`, nil when `name` is absent.
    static func option(_ name: String, in arguments: [String]) throws -> String? {
        guard let index = arguments.firstIndex(of: name) else { return nil }
        guard index + 1 < arguments.count else { throw usageError("\(name) needs a value") }
        return arguments[index + 1]
    }

    static func usageError(_ message: String) -> SSLMError {
        SSLMError(.invalidArgument, message + "\n" + usage)
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
