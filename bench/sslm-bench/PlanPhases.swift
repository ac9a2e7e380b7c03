import Foundation
import SSLMConfig
import SSLMCore
import SSLMObserve
import SSLMPKI
import SSLMPlan

/// `sslm-bench phases --topdir DIR [--runs R]`: the library calls `sslm plan` makes, timed one by one
/// (best of R runs, wall time) with the process's peak RSS after each phase of the first run, plus micro-measurements of the
/// suspected hot spots. For finding where the time of `sslm plan` goes; figures only.
///
/// Phases: config load (`ConfigLoader.load`, without and with `.sslm/config-cache`), observation
/// (`Observer.observe`, without and with `.sslm/observation-cache`; it includes the
/// fingerprint), the fingerprint alone (`Observation.computeFingerprint`, JSON-encodes the observation),
/// planning (`Planner.plan`) and the plan JSON (`PlanCodec.encode`). DNS facts are not gathered (the
/// generated topdirs have no MX-based DANE, so `sslm plan` gathers none either); the CLI's human rendering
/// is not included.
struct PlanPhases {
    var topdir: String
    var runs: Int

    func run() throws {
        print(
            "sslm-bench phases — \(topdir), best of \(runs) runs, \(ProcessInfo.processInfo.activeProcessorCount) cores"
        )
        var best: [String: Double] = [:]
        var order: [String] = []
        var peaks: [String: Int] = [:]
        var counts: (services: Int, actions: Int, notes: Int, fingerprintBytes: Int, planBytes: Int) = (0, 0, 0, 0, 0)
        for run in 0..<runs {
            func measure<T>(_ name: String, _ body: () throws -> T) rethrows -> T {
                let clock = ContinuousClock()
                let start = clock.now
                let value = try body()
                let elapsed = clock.now - start
                let secs = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
                if best[name] == nil { order.append(name) }
                best[name] = min(best[name] ?? .infinity, secs)
                if run == 0 { peaks[name] = Self.peakRSSKilobytes() }
                return value
            }
            let loaded = measure("config load") { ConfigLoader.load(topdir: topdir) }
            _ = measure("config load with the cache") { ConfigLoader.load(topdir: topdir, cache: .read) }
            guard let config = loaded.config else {
                loaded.diagnostics.forEach { print($0) }
                throw SSLMError(.configInvalid, "\(topdir): the config does not load")
            }
            let services = config.activeServices
            let observation = measure("observe (incl. fingerprint)") {
                Observer.observe(config: config, services: services, dns: [], localHostNames: [])
            }
            let cache = measure("open observation cache") { Observer.openCache(config: config, recording: false) }
            _ = measure("observe with the cache") {
                Observer.observe(config: config, services: services, dns: [], localHostNames: [], cache: cache)
            }
            let fingerprint = measure("  of which fingerprint (JSON)") {
                Observation.computeFingerprint(observation)
            }
            let plan = measure("plan") {
                Planner.plan(PlanningRequest(config: config, observation: observation, now: Date()))
            }
            let data = measure("plan JSON") { PlanCodec.encode(plan) }
            var copy = observation
            copy.fingerprint = ""
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            encoder.dateEncodingStrategy = .secondsSince1970
            counts = (
                services.count, plan.actions.count, plan.notes.count, (try? encoder.encode(copy).count) ?? 0,
                data.count
            )
            _ = fingerprint
        }
        print(
            "services \(counts.services), actions \(counts.actions), notes \(counts.notes), "
                + "observation JSON \(counts.fingerprintBytes / 1024) KiB, plan JSON \(counts.planBytes / 1024) KiB")
        print(pad("phase", 32) + pad("best s", 10) + "peak RSS so far, 1st run (MB)")
        for name in order {
            print(pad(name, 32) + pad(String(format: "%.3f", best[name] ?? 0), 10) + String((peaks[name] ?? 0) / 1024))
        }
        try microMeasurements()
    }

    /// Per-call costs of the operations the profile points at, on this topdir's first service certificate.
    func microMeasurements() throws {
        guard let config = ConfigLoader.load(topdir: topdir).config,
            let address = config.activeServices.first(where: { $0.group != GroupConfig.caGroup })
        else { return }
        let path = CertsLayout.serviceDirectory(topdir: topdir, address: address) + "/curr/"
        guard FileManager.default.fileExists(atPath: path + CertificateFileSet.Name.certificate) else { return }
        let certificate = try FileBytes.read(path + CertificateFileSet.Name.certificate)
        let fullchain = try FileBytes.read(path + CertificateFileSet.Name.fullchain)
        let iterations = 20_000
        print("per call (µs, single thread, \(iterations) calls):")
        func perCall(_ name: String, _ body: () throws -> Void) rethrows {
            let clock = ContinuousClock()
            let start = clock.now
            for _ in 0..<iterations { try body() }
            let elapsed = clock.now - start
            let secs = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            print("  " + pad(name, 52) + String(format: "%8.1f", secs / Double(iterations) * 1e6))
        }
        try perCall("PEMBlock.parseAll(cert.pem, \(certificate.count) B)") {
            _ = try PEMBlock.parseAll(certificate, file: "cert.pem")
        }
        try perCall("PEMBlock.parseAll(fullchain.pem, \(fullchain.count) B)") {
            _ = try PEMBlock.parseAll(fullchain, file: "fullchain.pem")
        }
        let block = try PEMBlock.parseAll(certificate, file: "cert.pem")[0]
        try perCall("CertificatePEM.decode (DER → Certificate)") {
            _ = try CertificatePEM.decode(block, file: "cert.pem")
        }
        let parsed = try CertificatePEM.decode(block, file: "cert.pem")
        try perCall("CertificateFacts(certificate)") { _ = try CertificateFacts(parsed) }
        perCall("serial as hex, String(format: \"%02x\") per byte") {
            _ = parsed.serialNumber.bytes.map { String(format: "%02x", $0) }.joined()
        }
        perCall("ContentDigest.labelled(fullchain.pem)") { _ = ContentDigest.labelled(fullchain) }
        perCall("FileBytes.read(fullchain.pem)") { _ = try? FileBytes.read(path + CertificateFileSet.Name.fullchain) }
        let date = Date()
        perCall("Timestamps.rfc3339(date)") { _ = Timestamps.rfc3339(date) }
    }

    static func peakRSSKilobytes() -> Int {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return usage.ru_maxrss
    }

    func pad(_ text: String, _ width: Int) -> String { text.padding(toLength: width, withPad: " ", startingAt: 0) }
}
