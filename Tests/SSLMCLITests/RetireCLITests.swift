import Foundation
import SSLMTestSupport
import Testing

/// `sslm plan` notes what left the config; `sslm apply --retire` retires it: production removed, TLSA records
/// withdrawn (certs/, the `[dns] tlsa_dirs` include copy, production), keys archived under `certs/.retired/`
/// (same bytes, 0600 keys, 0700 directories); then the plan is empty again. The example with its local CAs.
@Suite(
    "sslm plan and apply --retire", .serialized,
    .enabled(if: TestTier.full, "runs sslm apply on the example: not in make check"))
struct RetireCLITests {
    /// The example, applied once.
    private func appliedTopdir() throws -> String {
        let topdir = try ExampleTopdir.make("sslm-retire", ecKeys: true)
        let apply = try SSLMProcess.run(["apply", "--topdir", topdir])
        #expect(apply.status == 0, "apply failed: \(apply.stdout)\(apply.stderr)")
        return topdir
    }

    /// Replaces `old` by `new` in `conf.d/ssl-mgr.conf` (the text must be there).
    private func editMainConfig(_ topdir: String, _ old: String, _ new: String) throws {
        let path = topdir + "/conf.d/ssl-mgr.conf"
        let text = try String(contentsOfFile: path, encoding: .utf8)
        try #require(text.contains(old), "conf.d/ssl-mgr.conf has no \(old)")
        try text.replacingOccurrences(of: old, with: new).write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// Regular files below `directory` (symlinks not followed) → (bytes, permission bits).
    static func files(below directory: String) throws -> [String: (Data, Int)] {
        var result: [String: (Data, Int)] = [:]
        let manager = FileManager.default
        for relative in try manager.subpathsOfDirectory(atPath: directory) {
            let path = directory + "/" + relative
            let attributes = try manager.attributesOfItem(atPath: path)
            guard attributes[.type] as? FileAttributeType == .typeRegular else { continue }
            let mode = (attributes[.posixPermissions] as? NSNumber)?.intValue ?? -1
            result[relative] = (try Data(contentsOf: URL(fileURLWithPath: path)), mode)
        }
        return result
    }

    static func mode(_ path: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }

    /// Checks that `certs/.retired/<group>/<service>/` holds one archive with exactly `before`'s files, keys
    /// 0600 and directories 0700; returns the archive's path.
    @discardableResult
    static func expectArchived(_ topdir: String, _ group: String, _ service: String, before: [String: (Data, Int)])
        throws -> String
    {
        let retired = topdir + "/certs/.retired"
        let entries = try FileManager.default.contentsOfDirectory(atPath: "\(retired)/\(group)/\(service)")
        try #require(entries.count == 1, "one archive of \(group)/\(service), found \(entries)")
        let archive = "\(retired)/\(group)/\(service)/\(entries[0])"
        for directory in [retired, "\(retired)/\(group)", "\(retired)/\(group)/\(service)", archive] {
            let found = try mode(directory)
            #expect(found == 0o700, "\(directory): mode \(String(found, radix: 8))")
        }
        let after = try files(below: archive)
        #expect(Set(after.keys) == Set(before.keys), "archived files: \(after.keys.sorted())")
        var keys = 0
        for (name, (bytes, mode)) in before {
            #expect(after[name]?.0 == bytes, "\(name) changed in the archive")
            #expect(after[name]?.1 == mode, "\(name): mode changed")
            if name.hasSuffix("privkey.pem") {
                keys += 1
                #expect(after[name]?.1 == 0o600, "\(name): key mode \(String(after[name]?.1 ?? 0, radix: 8))")
            }
        }
        #expect(keys > 0, "the archive holds the service's keys")
        // The links still lead to the same set inside the archive.
        let curr = try FileManager.default.destinationOfSymbolicLink(atPath: archive + "/curr")
        #expect(FileManager.default.fileExists(atPath: archive + "/" + curr + "/privkey.pem"))
        return archive
    }

    @Test("a service removed from the config: plan notes it (exit 0); apply --retire archives it; then No changes")
    func serviceRemoved() throws {
        let dir = try appliedTopdir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try editMainConfig(
            dir, "services = ['mail-ec', 'mail-rsa', 'web-ec']", "services = ['mail-ec', 'mail-rsa']")
        try FileManager.default.removeItem(atPath: dir + "/conf.d/example.com/web-ec")
        let before = try Self.files(below: dir + "/certs/example.com/web-ec")
        #expect(FileManager.default.fileExists(atPath: dir + "/prod-certs/example.com/web-ec/curr/cert.pem"))

        let noted = try SSLMProcess.run(["plan", "--detailed-exitcode", "--topdir", dir])
        #expect(noted.status == 0, "a note is not a change: \(noted.stdout)\(noted.stderr)")
        #expect(noted.stdout.contains("No changes"), "\(noted.stdout)")
        #expect(
            noted.stdout.contains(
                "certs/example.com/web-ec is no longer in the config: left alone; `sslm apply --retire`"),
            "\(noted.stdout)")
        let planned = try SSLMProcess.run(["plan", "--retire", "--detailed-exitcode", "--json", "--topdir", dir])
        #expect(planned.status == 2, "\(planned.stdout)\(planned.stderr)")
        #expect(planned.stdout.contains("\"example.com/web-ec/retire\""), "\(planned.stdout)")
        #expect(planned.stdout.contains("retire_service"))
        let refused = try SSLMProcess.run(["plan", "--revoke", "--topdir", dir])
        #expect(refused.status != 0 && refused.stderr.contains("--revoke"), "\(refused.stdout)\(refused.stderr)")

        // A saved --retire plan carries the option (`apply FILE` plans again with it).
        let planFile = dir + "/retire-plan.json"
        let saved = try SSLMProcess.run(["plan", "--retire", "-o", planFile, "--topdir", dir])
        #expect(saved.status == 0, "\(saved.stdout)\(saved.stderr)")
        let mixed = try SSLMProcess.run(["apply", planFile, "--retire", "--topdir", dir])
        #expect(mixed.status != 0 && mixed.stderr.contains("--retire"), "\(mixed.stdout)\(mixed.stderr)")
        let apply = try SSLMProcess.run(["apply", planFile, "--topdir", dir])
        #expect(apply.status == 0, "\(apply.stdout)\(apply.stderr)")
        #expect(apply.stdout.contains("example.com/web-ec/retire"), "\(apply.stdout)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/certs/example.com/web-ec"))
        #expect(!FileManager.default.fileExists(atPath: dir + "/prod-certs/example.com/web-ec"))
        try Self.expectArchived(dir, "example.com", "web-ec", before: before)
        // The other services are untouched.
        #expect(FileManager.default.fileExists(atPath: dir + "/prod-certs/example.com/mail-ec/curr/cert.pem"))

        let after = try SSLMProcess.run(["plan", "--retire", "--detailed-exitcode", "--topdir", dir])
        #expect(after.status == 0, "\(after.stdout)\(after.stderr)")
        #expect(after.stdout.contains("No changes") && !after.stdout.contains("orphaned"), "\(after.stdout)")
    }

    @Test("a DANE group removed: retire_orphans = true retires it and withdraws its TLSA records everywhere")
    func groupRemovedWithdrawsTLSA() throws {
        let dir = try appliedTopdir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let tlsaFiles = [
            dir + "/certs/example.com/tlsa.example.com", dir + "/dns/include-tlsa/tlsa.example.com",
            dir + "/prod-certs/example.com/tlsa.example.com",
        ]
        for file in tlsaFiles {
            #expect(try String(contentsOfFile: file, encoding: .utf8).contains("TLSA"), "\(file) has records")
        }
        try editMainConfig(
            dir,
            "[[groups]]\n    domain = 'example.com'\n    services = ['mail-ec', 'mail-rsa', 'web-ec']\n"
                + "    active = true", "")
        try FileManager.default.removeItem(atPath: dir + "/conf.d/example.com")
        var before: [String: [String: (Data, Int)]] = [:]
        for service in ["mail-ec", "mail-rsa", "web-ec"] {
            before[service] = try Self.files(below: dir + "/certs/example.com/" + service)
        }
        let noted = try SSLMProcess.run(["plan", "--detailed-exitcode", "--topdir", dir])
        #expect(noted.status == 0, "\(noted.stdout)\(noted.stderr)")
        #expect(noted.stdout.contains("group example.com is no longer in the config"), "\(noted.stdout)")

        try editMainConfig(dir, "[globals]\n", "[globals]\n    retire_orphans = true\n")
        let planned = try SSLMProcess.run(["plan", "--json", "--topdir", dir])
        for id in ["example.com/mail-ec/retire", "example.com/tlsa", "example.com/tlsa/publish", "example.com/prod"] {
            #expect(planned.stdout.contains("\"\(id)\""), "no \(id): \(planned.stdout)")
        }
        let apply = try SSLMProcess.run(["apply", "--topdir", dir])
        #expect(apply.status == 0, "\(apply.stdout)\(apply.stderr)")
        for service in ["mail-ec", "mail-rsa", "web-ec"] {
            #expect(!FileManager.default.fileExists(atPath: dir + "/certs/example.com/" + service))
            #expect(!FileManager.default.fileExists(atPath: dir + "/prod-certs/example.com/" + service))
            try Self.expectArchived(dir, "example.com", service, before: before[service] ?? [:])
        }
        for file in tlsaFiles {
            let text = try String(contentsOfFile: file, encoding: .utf8)
            #expect(!text.contains("TLSA"), "\(file) still has records: \(text)")
        }
        let after = try SSLMProcess.run(["plan", "--detailed-exitcode", "--topdir", dir])
        #expect(after.status == 0, "\(after.stdout)\(after.stderr)")
        #expect(after.stdout.contains("No changes"), "\(after.stdout)")
    }
    @Test("a DANE group removed from an exec-provider zone: apply --retire sends tlsa-withdraw for its records")
    func groupRemovedWithdrawsThroughExecProvider() throws {
        let dir = try ExampleTopdir.make("sslm-retire-exec", ecKeys: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // A stand-in provider: appends the JSON document it gets on stdin to the log.
        let provider = dir + "/provider"
        let log = dir + "/provider.log"
        try "#!/bin/sh\ncat >> \"$1\"\necho >> \"$1\"\n".write(toFile: provider, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: provider)
        try editMainConfig(
            dir, "[[dns_primary]]\n    domain = 'default'\n    server = '127.0.0.1'\n    port = 53\n",
            "[[dns_primary]]\n    domain = 'default'\n    server = '127.0.0.1'\n    port = 53\n\n"
                + "[[dns_primary]]\n    domain = 'example.com'\n    server = '127.0.0.1'\n    port = 53\n"
                + "    update = 'exec'\n    update_cmd = ['\(provider)', '\(log)']\n")
        let install = try SSLMProcess.run(["apply", "--topdir", dir])
        #expect(install.status == 0, "apply: \(install.stdout)\(install.stderr)")
        let published = try String(contentsOfFile: log, encoding: .utf8)
        #expect(published.contains("\"tlsa-publish\""), "provider log: \(published)")
        let records = published.components(separatedBy: "\"TLSA\"").count - 1
        #expect(records >= 2, "the mail services' records were sent: \(published)")

        try editMainConfig(
            dir,
            "[[groups]]\n    domain = 'example.com'\n    services = ['mail-ec', 'mail-rsa', 'web-ec']\n"
                + "    active = true", "")
        try FileManager.default.removeItem(atPath: dir + "/conf.d/example.com")
        try "".write(toFile: log, atomically: true, encoding: .utf8)
        let retire = try SSLMProcess.run(["apply", "--retire", "--topdir", dir])
        #expect(retire.status == 0, "apply --retire: \(retire.stdout)\(retire.stderr)")
        let withdrawn = try String(contentsOfFile: log, encoding: .utf8)
        #expect(withdrawn.contains("\"tlsa-withdraw\"") && !withdrawn.contains("\"tlsa-publish\""), "\(withdrawn)")
        #expect(withdrawn.components(separatedBy: "\"TLSA\"").count - 1 == records, "\(withdrawn)")
        let sent = try String(contentsOfFile: dir + "/.sslm/dns/tlsa-sent.example.com", encoding: .utf8)
        #expect(!sent.contains("TLSA"), "what the zone has now: \(sent)")
        let after = try SSLMProcess.run(["plan", "--detailed-exitcode", "--topdir", dir])
        #expect(after.status == 0, "\(after.stdout)\(after.stderr)")
    }
}
