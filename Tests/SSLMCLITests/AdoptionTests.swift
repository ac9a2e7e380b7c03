import Foundation
import SSLMTestSupport
import Testing

/// Adopting an installation ssl-mgr made: the first `sslm plan` is empty when it is in sync, and names
/// exactly what differs otherwise.
///
/// The topdir is laid out as ssl-mgr 7.x leaves it (spec §3): `certs/<g>/<s>/{curr,prev,next} -> db/<ts>`
/// with `%Y%m%d-%H:%M:%S` names, certbot's `cb/` directories, `.flags/6_1_updated`, no `.sslm/`, the local
/// CAs' private keys copied to production (ssl-mgr copied every group), and `tlsa.<apex>` with ssl-mgr's
/// header, per-service comment blocks, its duplicated-apex quirk commented out and its `<ttl>  IN` spacing.
/// The certificates themselves are made by `sslm apply` on the same config (same file names and contents as
/// ssl-mgr's), then everything sslm-specific is removed.
@Suite(.enabled(if: TestTier.full, "runs sslm apply on the example: not in make check"))
struct AdoptionTests {
    static func sslMgrTopdir() throws -> String {
        let topdir = try ExampleTopdir.make("sslm-adopt")
        let made = try SSLMProcess.run(["apply", "--topdir", topdir])
        guard made.status == 0 else { throw TestbedError("apply: \(made.stdout)\(made.stderr)") }
        let fm = FileManager.default
        // Nothing of sslm's own state: no lineage, journal, lock or logs of sslm.
        try fm.removeItem(atPath: topdir + "/.sslm")
        try? fm.removeItem(atPath: topdir + "/logs/sslm")
        try fm.createDirectory(atPath: topdir + "/.flags", withIntermediateDirectories: true)
        try "6.1 Update: production dir sync done: 20261101-10:00:00\n"
            .write(toFile: topdir + "/.flags/6_1_updated", atomically: true, encoding: .utf8)
        let certs = topdir + "/certs"
        for group in try fm.contentsOfDirectory(atPath: certs) where !group.hasPrefix("tlsa") {
            var isDirectory: ObjCBool = false
            guard fm.fileExists(atPath: certs + "/" + group, isDirectory: &isDirectory), isDirectory.boolValue else {
                continue
            }
            for service in try fm.contentsOfDirectory(atPath: certs + "/" + group) where !service.hasPrefix("tlsa.") {
                // certbot's config dir, with an account and ssl-mgr's hook files.
                let cb = "\(certs)/\(group)/\(service)/cb"
                let account = cb + "/accounts/acme-v02.api.letsencrypt.org/directory/0123456789abcdef"
                try fm.createDirectory(atPath: account, withIntermediateDirectories: true)
                try "{\"creation_host\": \"mail.example.com\"}".write(
                    toFile: account + "/meta.json", atomically: true, encoding: .utf8)
                try "{}".write(toFile: account + "/private_key.json", atomically: true, encoding: .utf8)
                try fm.createDirectory(atPath: cb + "/work", withIntermediateDirectories: true)
                try "# auth-data\n#\n".write(toFile: cb + "/auth-data", atomically: true, encoding: .utf8)
                try "".write(toFile: cb + "/web-tokens", atomically: true, encoding: .utf8)
            }
        }
        // ssl-mgr copied the CAs' keys to production too.
        for ca in ["my-root", "my-int"] {
            for file in ["privkey.pem", "bundle.pem"] {
                let source = "\(certs)/ca/\(ca)/curr/\(file)"
                let target = "\(topdir)/prod-certs/ca/\(ca)/curr/\(file)"
                try? fm.removeItem(atPath: target)
                try fm.copyItem(atPath: source, toPath: target)
            }
        }
        // tlsa.<apex> as ssl-mgr writes it, in certs/, the tlsa_dirs copy and production.
        for apex in ["example.com", "example.net"] {
            let path = "\(certs)/\(apex)/tlsa.\(apex)"
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { continue }
            let records = text.split(separator: "\n").filter {
                !$0.hasPrefix(";") && !$0.trimmingCharacters(in: .whitespaces).isEmpty
            }
            var file = ";;\n;; TLSA \(apex) : phase = normal\n;;\n;;\n;; mail-ec curr\n;;\n"
            for (index, record) in records.enumerated() {
                let spaced = record.replacingOccurrences(of: " IN TLSA ", with: "  IN TLSA ")
                file += spaced + "\n"
                if index == 0 { file += ";; " + spaced + "\n" }  // ssl-mgr's duplicated apex row, commented
            }
            file += "\n"
            for target in [
                path, "\(topdir)/prod-certs/\(apex)/tlsa.\(apex)", "\(topdir)/dns/include-tlsa/tlsa.\(apex)",
            ]
            where fm.fileExists(atPath: target) {
                try file.write(toFile: target, atomically: true, encoding: .utf8)
            }
        }
        return topdir
    }

    @Test func anInSyncSSLMgrInstallationPlansNothing() throws {
        let topdir = try Self.sslMgrTopdir()
        defer { try? FileManager.default.removeItem(atPath: topdir) }
        let plan = try SSLMProcess.run(["plan", "--topdir", topdir, "--detailed-exitcode"])
        #expect(plan.status == 0, "plan on an adopted topdir: \(plan.stdout)\(plan.stderr)")
        // The CA keys in production are named, as a warning.
        #expect(plan.stdout.contains("prod-certs/ca/my-int/curr/privkey.pem"), "\(plan.stdout)")
        // Nothing of cb/ was touched or needed.
        #expect(FileManager.default.fileExists(atPath: topdir + "/certs/example.com/mail-ec/cb/auth-data"))
    }

    @Test func aChangedProductionFileIsNamed() throws {
        let topdir = try Self.sslMgrTopdir()
        defer { try? FileManager.default.removeItem(atPath: topdir) }
        try "edited by hand\n".write(
            toFile: topdir + "/prod-certs/example.com/web-ec/curr/fullchain.pem",
            atomically: true, encoding: .utf8)
        let plan = try SSLMProcess.run(["plan", "--topdir", topdir, "--detailed-exitcode"])
        #expect(plan.status == 2)
        #expect(plan.stdout.contains("prod-certs/example.com/web-ec/curr/fullchain.pem differs"), "\(plan.stdout)")
        // Only that service's production copy is planned (and what follows a production change).
        #expect(plan.stdout.contains("example.com/web-ec/prod"))
        #expect(!plan.stdout.contains("example.com/mail-ec/prod"))
        #expect(!plan.stdout.contains("generate_key"))
    }
}
