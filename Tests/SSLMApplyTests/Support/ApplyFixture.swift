import Foundation
import Logging
import SSLMApply
import SSLMConfig
import SSLMCore
import SSLMDeploy
import SSLMPlan
import SSLMTestSupport

/// A throw-away topdir (a `ScratchTopdir`): a root CA (self-signed), an intermediate (signed by root),
/// example.com/mail (RSA, signed by the intermediate, DANE on port 25 with MX owners) and example.net/web
/// (self-signed leaf, independent of the CAs), `[dns] tlsa_dirs`, an `[smtp]` section and stand-in programs
/// that record their argv.
final class ApplyFixture {
    let topdir: ScratchTopdir
    var path: String { topdir.path }
    let bin: String
    let commandLog: String
    let config: Config
    /// 2027-01-14T12:00:00Z.
    static let now = Date(timeIntervalSince1970: 1_799_928_000)

    init(smtp: String? = nil) throws {
        topdir = try ScratchTopdir("sslm-apply")
        bin = topdir.path + "/bin"
        commandLog = topdir.path + "/commands.log"
        try Self.writeStandIns(bin: bin, log: commandLog)
        // `BIN` in a custom section stands for the fixture's stand-in program directory.
        let smtpSection =
            smtp?.replacingOccurrences(of: "BIN/", with: bin + "/") ?? """
                [smtp]
                servers = ['mx1.example.org', 'localhost']
                restart_cmd = ['\(bin)/restart-smtp reload', '\(bin)/restart-smtp check']
                depends = ['cert']
                """
        let files: [String: String] = [
            "ssl-mgr.conf": ScratchTopdir.mainConf(
                groups: ["ca": ["root", "int"], "example.com": ["mail"], "example.net": ["web"]],
                extraGlobals: ["clean_keep = 1", "post_copy_cmd = [['mx1.example.org', '\(bin)/post-copy']]"],
                extraDNS: ["restart_cmd = '\(bin)/dns-refresh'", "depends = ['tlsa']"]) + "\n\n" + smtpSection,
            "ca-info.conf": ScratchTopdir.localCAInfo(),
            "ca/root": ScratchTopdir.rootCAConf(),
            "ca/int": ScratchTopdir.intermediateCAConf(ecAlgorithm: "secp256r1"),
            "example.com/mail": ScratchTopdir.mailConf(),
            "example.net/web": ScratchTopdir.serviceConf(
                name: "Web", group: "example.net", service: "web", signer: "self", key: ["ktype = 'ec'"],
                commonName: "www.example.net", organization: "Example", caDays: 30),
        ]
        try topdir.writeConf(files)
        let loaded = ConfigLoader.load(topdir: topdir.path)
        guard let config = loaded.config else {
            throw SSLMError(.configInvalid, loaded.diagnostics.map(\.description).joined(separator: "\n"))
        }
        self.config = config
    }

    func executor(
        now: Date = ApplyFixture.now, runner: any CommandRunner = ProcessCommandRunner(),
        configure: (inout ExecutorOptions) -> Void = { _ in }
    ) -> Executor {
        var options = ExecutorOptions()
        options.localHostNames = ["sslm-test-host"]
        options.dnsFacts = [DNSFacts(apex: "example.com", mxHosts: ["mx.example.com"], failure: nil)]
        options.rsyncProgram = bin + "/rsync"
        options.sshProgram = bin + "/ssh"
        options.lockTimeout = .seconds(5)
        configure(&options)
        return Executor(config: config, topdir: path, now: now, logger: Self.logger, runner: runner, options: options)
    }

    static let logger = Logger(label: "sslm.apply.tests") { _ in SwiftLogNoOpLogHandler() }

    // MARK: - Disk helpers

    var prod: String { config.globals.prodCertDir }

    func serviceDir(_ address: String) -> String { path + "/certs/" + address }

    /// The db directory name a link points to, nil when absent.
    func link(_ address: String, _ name: String) -> String? {
        guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: serviceDir(address) + "/" + name)
        else { return nil }
        return (target as NSString).lastPathComponent
    }

    /// `certs/<address>/<link>/<file>` through the link.
    func file(_ address: String, _ link: String, _ file: String) -> String {
        serviceDir(address) + "/" + link + "/" + file
    }

    func mode(_ path: String) -> Int? { ScratchTopdir.mode(path) }

    func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

    func read(_ path: String) -> String? {
        FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Every path under `certs/`, `prod/` and `dns/` with a digest of its content (links: their target).
    func snapshot() -> [String: String] {
        var result: [String: String] = [:]
        for root in ["certs", "prod", "dns"] {
            let base = path + "/" + root
            guard let enumerator = FileManager.default.enumerator(atPath: base) else { continue }
            for case let relative as String in enumerator {
                let full = base + "/" + relative
                if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: full) {
                    result[root + "/" + relative] = "-> " + target
                } else if let data = FileManager.default.contents(atPath: full) {
                    result[root + "/" + relative] = ContentDigest.labelled(data)
                } else {
                    result[root + "/" + relative] = "dir"
                }
            }
        }
        return result
    }

    /// Lines the stand-in programs recorded: `<program> <args…>`.
    var recordedCommands: [String] {
        (read(commandLog) ?? "").split(separator: "\n").map(String.init)
    }

    private static func writeStandIns(bin: String, log: String) throws {
        let record = """
            #!/bin/sh
            # Stand-in for a real program: records its name and argv, one line per call.
            line=$(basename "$0")
            for arg in "$@"; do line="$line $arg"; done
            echo "$line" >> '\(log)'
            """
        let scripts: [String: String] = [
            "rsync": record + "\nexit 0\n",
            "ssh": record + "\nexit 0\n",
            "restart-smtp": record + "\nexit 0\n",
            "dns-refresh": record + "\nexit 0\n",
            "post-copy": record + "\nexit 0\n",
            "fail-3": record + "\necho 'service failed to reload' >&2\nexit 3\n",
            "sleeper": record + "\nsleep 30\nexit 0\n",
        ]
        for (name, text) in scripts {
            try ScratchTopdir.writeFile(text, to: bin + "/" + name, mode: 0o755, makeParents: true)
        }
    }
}

/// Hand-built plans following Docs/plan-format.md.
enum Plans {
    static let reason = Reason(.certificateMissing, "test")

    /// create_next → key → csr → cert → bundle → [tlsa] → roll for one service; `after` is added to the
    /// sign action's dependencies (the CA's roll).
    static func build(
        _ service: String, signer: String, tlsa: Bool = false, roll: Bool = true, after: [String] = []
    ) -> [Action] {
        var actions: [Action] = []
        var previous: String?
        func add(_ id: String, _ payload: ActionPayload, extra: [String] = []) {
            actions.append(
                Action(
                    id: id, service: service, payload: payload, reason: reason,
                    dependsOn: (previous.map { [$0] } ?? []) + extra))
            previous = id
        }
        add("\(service)/next/dir", .createNext)
        add("\(service)/next/key", .generateKey(.default))
        add("\(service)/next/csr", .createCSR(sans: []))
        add("\(service)/next/cert", .signLocal(.init(signer: signer)), extra: after)
        add("\(service)/next/bundle", .writeBundle)
        if tlsa { add("\(service)/next/tlsa", .writeServiceTLSA(dane: [])) }
        if roll { add("\(service)/roll", .roll(next: nil)) }
        return actions
    }

    static func sync(_ service: String, after: [String], curr: Bool = true, next: Bool = false) -> Action {
        Action(
            id: "\(service)/prod", service: service, payload: .syncServiceProduction(curr: curr, next: next),
            reason: reason, dependsOn: after)
    }

    /// root → int → mail (DANE) fresh install with production, apex TLSA, publish and its prod copy.
    static func freshInstall() -> [Action] {
        build("ca/root", signer: "self")
            + build("ca/int", signer: "root", after: ["ca/root/roll"])
            + build("example.com/mail", signer: "int", tlsa: true, after: ["ca/int/roll"])
            + [
                sync("ca/root", after: ["ca/root/roll"]),
                sync("ca/int", after: ["ca/int/roll"]),
                sync("example.com/mail", after: ["example.com/mail/roll"]),
                Action(
                    id: "example.com/tlsa", payload: .writeApexTLSA(apex: "example.com", rolling: true), reason: reason,
                    dependsOn: ["example.com/mail/roll"]),
                Action(
                    id: "example.com/tlsa/publish",
                    payload: .publishTLSA(apex: "example.com", directories: ["dns/tlsa"]), reason: reason,
                    dependsOn: ["example.com/tlsa"]),
                Action(
                    id: "example.com/prod", payload: .syncApexTLSA(apex: "example.com"), reason: reason,
                    dependsOn: ["example.com/tlsa"]),
            ]
    }

    static func plan(_ actions: [Action], lineage: String? = nil, fingerprint: String = "sha256:test") -> Plan {
        Plan(
            toolVersion: SSLMVersion.current, now: Timestamps.rfc3339(ApplyFixture.now), configDigest: "sha256:test",
            base: .init(lineage: lineage, fingerprint: fingerprint),
            options: .init(targets: [], phase: .all, force: false, reuseKey: false, minRollMinutes: 90),
            actions: actions, notes: [])
    }
}

/// Runs a program and returns its exit status and combined output (for openssl checks).
func runTool(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
    let outcome = try ScriptRunner.run([executable] + arguments, combinedOutput: true)
    return (outcome.status, outcome.stdout)
}
