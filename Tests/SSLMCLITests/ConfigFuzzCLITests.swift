import Foundation
import SSLMTestSupport
import Testing

/// Generated configurations fed to the real binary: whatever the input, `sslm config check` and `sslm plan`
/// end with exit status 0 or 1 — never a crash (a shell shows SIGILL as 132; `Process` reports the signal
/// number, 4) and never 2 (`plan` without `--detailed-exitcode`) — and both agree on whether the configuration is valid. The topdir holds
/// real certificates (curr and next) so that `plan` computes renewal and roll times with the values.
@Suite(
    "Generated configurations never crash sslm",
    .enabled(if: TestTier.full, "runs sslm on 500 configurations: not in make check"))
struct ConfigFuzzCLITests {
    /// One file, the table (nil: the top of the file) and the key a mutation replaces.
    struct Slot: Sendable {
        var file: String
        var table: String?
        var key: String
    }

    static let slots: [Slot] = {
        var slots: [Slot] = []
        func add(_ file: String, _ table: String?, _ keys: [String]) {
            slots += keys.map { Slot(file: file, table: table, key: $0) }
        }
        let main = "ssl-mgr.conf"
        // Not logdir: plan writes its log file there, and a generated '/etc' would put one there for real.
        add(
            main, "[globals]",
            [
                "verb", "prod_cert_dir", "clean_keep", "min_roll_mins", "dns_check_delay",
                "dns_xtra_ns", "post_copy_cmd", "ssh_config", "renew_expire_days",
                "renew_expire_days_spread", "preferred_acme_profile", "zz_unknown",
            ])
        add(
            main, "[renew_info]",
            [
                "target_90", "rand_adj_90", "target_45", "'target_6.67'", "'target_1e308'",
                "'rand_adj_-1'", "renew_target_90", "'target_nan'",
            ])
        add(main, "[[groups]]", ["domain", "services", "active"])
        add(main, "[[dns_primary]]", ["domain", "server", "port", "update", "tsig_key_file", "update_cmd"])
        add(main, "[dns]", ["restart_cmd", "acme_dir", "tlsa_dirs", "depends"])
        add(main, "[smtp]", ["servers", "restart_cmd", "svc_depends", "depends", "restart_timeout", "skip_prod_copy"])
        add(main, "[web]", ["server_dir", "servers"])
        add("ca-info.conf", "[my-int]", ["ca_type", "ca_desc"])
        add(
            "ca-info.conf", "[le-dns]",
            [
                "ca_type", "ca_validation", "ca_directory_url", "ca_trust_file",
                "ca_eab_kid", "ca_eab_hmac_key", "ca_preferred_chain",
                "ca_preferred_acme_profile",
            ])
        for service in ["ca/my-root", "ca/my-int", "example.com/mail-ec", "example.net/web-ec"] {
            add(
                service, nil,
                [
                    "name", "group", "service", "signing_ca", "dane_tls", "dane_tls_ttl",
                    "renew_expire_days", "renew_expire_days_spread",
                ])
            add(service, "[KeyOpts]", ["ktype", "ec_algo", "rsa_bits"])
            add(service, "[X509]", ["CN", "O", "C", "OU", "email", "sans"])
        }
        add("ca/my-root", "[CA]", ["sign_end_days", "digest"])
        add("ca/my-int", "[CA]", ["sign_end_days", "digest"])
        return slots
    }()

    /// TOML values: extreme numbers, odd strings (NUL, control characters, unicode, paths), wrong types and
    /// wrong nesting. None names an ACME CA or an MX-based DANE entry, so `plan` stays offline.
    static let values: [String] = {
        let big = "\"" + String(repeating: "a", count: 100_000) + "\""
        let bigName = "'" + String(repeating: "x.", count: 200) + "example.com'"
        return [
            "9223372036854775807", "-9223372036854775808", "-1", "0", "1", "2", "90", "2147483647", "2147483648",
            "36500", "36501", "65536", "1e308", "-1e308", "nan", "inf", "-inf", "-0.0", "5e-324", "0.5", "89.99",
            "true", "false", "1979-05-27T07:32:00Z", "07:32:00", "1979-05-27",
            "''", "'nan'", "'-1'", "'1e308'", "'9223372036854775808'", "'../../../etc'", "'/'", "'/etc'", "'/usr/'",
            "'certs'", "'certs/ca/my-root'", "'.sslm'", "'conf.d'", "'.'", "'..'", "'prod-certs'", "'*'", "'ALL'",
            "'self'", "'ca'", "'my-int'", "'my-root'", "'curr'", "'.hidden'", "'tlsa.example.com'",
            "'acme-challenge.example.com'", "'ec'", "'rsa'", "'ed25519'", "'secp256r1'", "'sha512'", "'dns-01'",
            "'https://ca.invalid/dir'", "'http://x'", "'US'", "'example.com'", "'-oProxyCommand=x'",
            "\"\\u0000\"", "\"www.example.net\\u0000.evil.com\"", "\"a\\u0007b\"", "\"\\u001b[31mred\"",
            "\"line\\nbreak\"", "\"tab\\there\"", "\"\\u0085\"", "\"\\u202Eevil\"", "\"é中文😀\"", "\"\\uFFFF\"",
            "\"\\uFFFE\"", "\"\\U0010FFFF\"", "'C:\\path\\u0000'", "'''multi\nline'''", "\"\"\"a\\u0000\"\"\"", big,
            bigName, "[]", "[[]]", "[[], []]", "[1, 'a', true]", "['a', 'b']", "['example.com', '']",
            "[9223372036854775807]", "[[465, 'tcp', 3, 1, 1]]", "[[465, 'tcp', 3, 1, 1, 'SANS']]",
            "[[465, 'tcp', 9223372036854775807, 1, 1]]", "[[0, 'tcp', 3, 1, 1]]", "[['a', ['b']]]",
            "[['host', '/bin/true']]", "['\\u0000']", "{}", "{ a = 1 }", "{ a = { b = [] } }",
            "[{ x = 1 }, { y = 2 }]", "'rfc2136'", "'exec'", "'include'",
        ]
    }()

    /// Keys that take a number: each is also set to each of `extremeNumbers` on its own (the systematic part).
    static let numericKeys: Set<String> = [
        "clean_keep", "min_roll_mins", "dns_check_delay", "renew_expire_days", "renew_expire_days_spread",
        "target_90", "rand_adj_90", "target_45", "'target_6.67'", "renew_target_90", "port", "restart_timeout",
        "dane_tls_ttl", "rsa_bits", "sign_end_days",
    ]

    static let extremeNumbers = [
        "9223372036854775807", "-9223372036854775808", "-1", "0", "1e308", "-1e308", "2147483648", "89.99",
    ]

    /// Values at the edges of the ranges (most of them valid for some key), so that a fair share of the
    /// generated configurations loads and `plan` computes with extreme but accepted numbers.
    static let edgeValues: [String] = [
        "0", "1", "0.0", "0.1", "29.9", "89.99", "3600", "86400", "10000", "36500", "525600", "2147483647",
        "65535", "true", "false", "''", "[]", "'x'", "'prod-certs'", "'/srv/ssl-mgr/prod'", "'Example'",
    ]

    /// The conf.d.example files (with the scratch topdir's offline changes) by path below conf.d.
    static func baseFiles() throws -> [String: String] {
        let topdir = try ExampleTopdir.make("sslm-fuzz-base")
        defer { try? FileManager.default.removeItem(atPath: topdir) }
        // Without DANE: a DANE service's next waits for its TLSA records in DNS, and the test has no DNS server.
        for service in ["mail-ec", "mail-rsa"] {
            let file = topdir + "/conf.d/example.com/" + service
            let text = try String(contentsOfFile: file, encoding: .utf8)
                .replacingOccurrences(of: "dane_tls = [[465, 'tcp', 3, 1, 1]]", with: "dane_tls = []")
            try text.write(toFile: file, atomically: true, encoding: .utf8)
        }
        var files: [String: String] = [:]
        let root = topdir + "/conf.d"
        guard let enumerator = FileManager.default.enumerator(atPath: root) else { return files }
        for case let path as String in enumerator {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: root + "/" + path, isDirectory: &isDirectory),
                !isDirectory.boolValue
            {
                files[path] = try String(contentsOfFile: root + "/" + path, encoding: .utf8)
            }
        }
        return files
    }

    /// `text` with `key` of `table` set to `value`: existing lines for the key in that table are dropped and
    /// the new line goes right below the table header (or at the top of the file).
    static func set(_ text: String, table: String?, key: String, value: String) -> String {
        var lines = text.components(separatedBy: "\n")
        var start = 0
        if let table {
            guard let header = lines.firstIndex(where: { $0.trimmingCharacters(in: .whitespaces) == table }) else {
                return text + "\n" + table + "\n" + key + " = " + value + "\n"
            }
            start = header + 1
        }
        var end = start
        while end < lines.count && !lines[end].trimmingCharacters(in: .whitespaces).hasPrefix("[") { end += 1 }
        let bare = key.trimmingCharacters(in: CharacterSet(charactersIn: "'"))
        let kept = lines[start..<end].filter { line in
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            return ![key, bare].contains { trimmed.hasPrefix($0 + " ") || trimmed.hasPrefix($0 + "=") }
        }
        lines.replaceSubrange(start..<end, with: [key + " = " + value] + kept)
        return lines.joined(separator: "\n")
    }

    /// One generated configuration: 1–4 changes of the example, chosen by a seeded generator.
    static func generate(_ base: [String: String], using generator: inout SplitMix64) -> [String: String] {
        var files = base
        // Half the cases change one key (so that a fair share loads and reaches the planner), half 2–4.
        let count = Bool.random(using: &generator) ? 1 : Int.random(in: 2...4, using: &generator)
        for _ in 0..<count {
            let slot = slots[Int.random(in: 0..<slots.count, using: &generator)]
            let pool = Int.random(in: 0..<5, using: &generator) < 2 ? edgeValues : values
            let value = pool[Int.random(in: 0..<pool.count, using: &generator)]
            files[slot.file] = set(files[slot.file] ?? "", table: slot.table, key: slot.key, value: value)
        }
        return files
    }

    /// Writes `files` (paths below conf.d) into `topdir`/conf.d.
    static func write(_ files: [String: String], to topdir: String) throws {
        try ScratchTopdir(at: topdir).writeConf(files)
    }

    struct Outcome: Sendable {
        var index: Int
        var check: SSLMProcess.Output
        var plan: SSLMProcess.Output
        var files: [String: String]
    }

    /// A topdir of the example after one apply and one forced renewal: every service has a curr and a next,
    /// so `plan` evaluates renewal and roll timing (where out-of-range numbers used to trap).
    static func stateTopdir(_ files: [String: String]) throws -> String {
        let topdir = ScratchTopdir.newPath("sslm-fuzz-state")
        try write(files, to: topdir)
        let first = try SSLMProcess.run(["apply", "--topdir", topdir])
        let renew = try SSLMProcess.run(["apply", "--topdir", topdir, "--force", "--phase", "renew"])
        #expect(first.status == 0 && renew.status == 0, "\(first.stderr)\(renew.stderr)")
        return topdir
    }

    @Test("500 generated configurations: config check and plan exit 0 or 1, consistently")
    func generatedConfigurations() throws {
        let base = try Self.baseFiles()
        #expect(base.count >= 8, "conf.d.example was read")
        let state = try Self.stateTopdir(base)
        defer { try? FileManager.default.removeItem(atPath: state) }
        #expect(FileManager.default.fileExists(atPath: state + "/certs/example.com/web-ec/next/cert.pem"))
        var generator = SplitMix64(seed: 0x7275_7374)
        // Systematic: every numeric key alone at every extreme number; then random combinations up to 500.
        var generated: [[String: String]] = []
        for slot in Self.slots where Self.numericKeys.contains(slot.key) {
            for value in Self.extremeNumbers {
                var files = base
                files[slot.file] = Self.set(base[slot.file] ?? "", table: slot.table, key: slot.key, value: value)
                generated.append(files)
            }
        }
        #expect(generated.count >= 200)
        while generated.count < 500 { generated.append(Self.generate(base, using: &generator)) }
        let cases = generated
        let outcomes = OutcomeList()
        let workers = 4
        // One scratch topdir per worker, a copy of the state; each case rewrites its conf.d (plan writes only
        // its log file, so the certificates stay as they are).
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            let topdir = ScratchTopdir.newPath("sslm-fuzz-\(worker)")
            defer { try? FileManager.default.removeItem(atPath: topdir) }
            for index in stride(from: worker, to: cases.count, by: workers) {
                do {
                    if index < workers {
                        let copy = try ScriptRunner.run(["/bin/cp", "-a", state, topdir])
                        guard copy.succeeded else { throw TestbedError("cp -a \(state) \(topdir): \(copy.stderr)") }
                    }
                    try Self.write(cases[index], to: topdir)
                    let check = try SSLMProcess.run(["config", "check", "--topdir", topdir])
                    let plan = try SSLMProcess.run(["plan", "--topdir", topdir])
                    outcomes.append(Outcome(index: index, check: check, plan: plan, files: cases[index]))
                } catch {
                    outcomes.append(
                        Outcome(
                            index: index, check: .init(status: -1, stdout: "", stderr: "\(error)"),
                            plan: .init(status: -1, stdout: "", stderr: ""), files: cases[index]))
                }
            }
        }
        let all = outcomes.sorted
        #expect(all.count == cases.count)
        let failing = all.filter { outcome in
            !([0, 1].contains(outcome.check.status) && [0, 1].contains(outcome.plan.status)
                && outcome.check.status == outcome.plan.status
                && (outcome.check.status == 0 || outcome.check.stderr.contains("error: conf.d/")))
        }
        #expect(failing.count == 0, "\(failing.count) of \(all.count) cases failed; the first 5 follow")
        for outcome in failing.prefix(5) {
            let changed = outcome.files.filter { base[$0.key] != $0.value }
                .map { "--- \($0.key)\n\($0.value.prefix(3000))" }.joined(separator: "\n")
            Issue.record(
                """
                case \(outcome.index): config check exit \(outcome.check.status), plan exit \(outcome.plan.status)
                check stderr: \(outcome.check.stderr.prefix(2000))
                plan stderr: \(outcome.plan.stderr.prefix(2000))
                \(changed)
                """)
        }
        let valid = all.filter { $0.check.status == 0 }.count
        let invalid = all.filter { $0.check.status == 1 }.count
        #expect(valid >= 25, "the generator must also produce configurations that load (\(valid) did)")
        #expect(invalid >= 250, "most generated configurations are broken (\(invalid) were)")
    }
}

/// Outcomes collected from the worker threads.
final class OutcomeList: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [ConfigFuzzCLITests.Outcome] = []

    func append(_ outcome: ConfigFuzzCLITests.Outcome) {
        lock.lock()
        defer { lock.unlock() }
        items.append(outcome)
    }

    var sorted: [ConfigFuzzCLITests.Outcome] {
        lock.lock()
        defer { lock.unlock() }
        return items.sorted { $0.index < $1.index }
    }
}
