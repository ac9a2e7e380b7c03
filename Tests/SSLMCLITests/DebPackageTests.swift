import Foundation
import SSLMTestSupport
import Testing

/// `make deb`'s packaging step (scripts/make-deb) on the debug build: the package's control data, its
/// files, the ssl-mgr names, the systemd units, no /etc/ssl-mgr in it; extracted into a scratch root,
/// `sslm --version` and `sslm-mgr -h` run from it; lintian finds no error. (`make deb` itself packages the
/// release build linked with --static-swift-stdlib; the debug build needs the toolchain's Swift runtime,
/// which is why this test passes --allow-unpackaged-libs and expects lintian's RUNPATH error only.)
@Suite(.enabled(if: TestTier.full, "builds and lints a .deb: not in make check"))
struct DebPackageTests {
    static let root = SSLMProcess.repositoryRoot
    static let bin = SSLMProcess.buildDirectory

    /// What `make dist` generates, from the debug build: completions and the man page.
    static func dist(in directory: String) throws {
        for shell in ["bash", "zsh", "fish"] {
            let script = try SSLMProcess.run(["--generate-completion-script", shell])
            #expect(script.status == 0)
            try script.stdout.write(toFile: directory + "/sslm." + shell, atomically: true, encoding: .utf8)
        }
        try FileManager.default.createDirectory(atPath: directory + "/man", withIntermediateDirectories: true)
        let man = try ScriptRunner.run([
            root + "/scripts/make-manpage", SSLMProcess.executable, bin + "/generate-manual", directory + "/man",
            "2026-12-06",
        ])
        #expect(man.succeeded, "\(man.stdout)\(man.stderr)")
    }

    @Test func thePackageInstallsAndRuns() throws {
        let scratch = try ScratchTopdir("sslm-deb")
        let dist = scratch.path + "/dist"
        try FileManager.default.createDirectory(atPath: dist, withIntermediateDirectories: true)
        try Self.dist(in: dist)
        let makeDeb = [
            Self.root + "/scripts/make-deb", "--binary", Self.bin + "/sslm", "--dist", dist, "--version", "0.1.0",
            "--out", scratch.path + "/out", "--fast",
        ]
        // The debug build (not SSLM_TEST_EXECUTABLE, which may be the static release build) links the
        // toolchain's Swift runtime: refused unless allowed.
        let refused = try ScriptRunner.run(makeDeb)
        #expect(refused.status == 1 && refused.stderr.contains("libswiftCore.so"), "\(refused.stderr)")
        let built = try ScriptRunner.run(makeDeb + ["--allow-unpackaged-libs"])
        #expect(built.succeeded, "\(built.stdout)\(built.stderr)")
        let deb = built.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(deb.hasSuffix("/sslm_0.1.0_amd64.deb") || deb.hasSuffix(".deb"), "\(deb)")

        let info = try ScriptRunner.run(["dpkg-deb", "--field", deb, "Package", "Version", "Depends"])
        #expect(info.stdout.contains("Package: sslm") && info.stdout.contains("Version: 0.1.0"), "\(info.stdout)")
        #expect(info.stdout.contains("libldns3") && info.stdout.contains("libssl3"), "\(info.stdout)")
        let contents = try ScriptRunner.run(["dpkg-deb", "--contents", deb]).stdout
        for path in [
            "./usr/bin/sslm", "./usr/bin/sslm-mgr -> sslm", "./usr/bin/sslm-dhparm -> sslm",
            "./usr/share/man/man1/sslm.1.gz", "./usr/share/bash-completion/completions/sslm",
            "./lib/systemd/system/sslm.timer", "./usr/share/doc/sslm/copyright",
            "./usr/share/doc/sslm/examples/conf.d/ssl-mgr.conf",
        ] {
            #expect(contents.contains(path), "the package holds \(path)")
        }
        #expect(!contents.contains("./etc/"), "an existing /etc/ssl-mgr is never part of the package")

        let target = scratch.path + "/root"
        #expect(try ScriptRunner.run(["dpkg-deb", "-x", deb, target]).succeeded)
        let version = try ScriptRunner.run([target + "/usr/bin/sslm", "--version"])
        #expect(version.succeeded && version.stdout == "0.1.0\n", "\(version.stdout)\(version.stderr)")
        let mgr = try ScriptRunner.run([target + "/usr/bin/sslm-mgr", "-h"])
        #expect(mgr.succeeded && mgr.stdout.contains("usage: sslm-mgr"), "\(mgr.stdout)\(mgr.stderr)")
        let unit = try String(contentsOfFile: target + "/lib/systemd/system/sslm.service", encoding: .utf8)
        #expect(unit.contains("ExecStart=/usr/bin/sslm apply"), "\(unit)")

        guard ScriptRunner.hasTool("lintian") else { return }
        let lint = try ScriptRunner.run(["lintian", "--allow-root", deb])
        let errors = (lint.stdout + lint.stderr).split(separator: "\n").filter { $0.hasPrefix("E: ") }
        let unexpected = errors.filter { !$0.contains("custom-library-search-path RUNPATH /opt/swift") }
        #expect(unexpected.isEmpty, "lintian: \(errors)")
    }
}
