import Foundation
import SSLMTestSupport
import Testing

/// What `make install` generates from the built binary, checked on the debug build (the real install
/// builds in release, which takes minutes): the shell completions and the man page.
@Suite("install: completions and man page")
struct InstallTests {
    static let subcommands = [
        "plan", "apply", "show", "status", "check", "revoke", "config", "info", "verify", "tlsa-hash", "dhparam",
    ]

    /// A program found on PATH (or nil).
    static func which(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(name)" }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// `generate-manual` beside the built sslm (`swift build --product generate-manual`; `make test` builds it).
    static var generateManual: String? {
        let path = SSLMProcess.buildDirectory + "/generate-manual"
        return FileManager.default.isExecutableFile(atPath: path) ? path : nil
    }

    @Test("every shell's completion script knows every subcommand", arguments: ["bash", "zsh", "fish"])
    func completions(shell: String) throws {
        let out = try SSLMProcess.run(["--generate-completion-script", shell])
        #expect(out.status == 0, "\(out.stderr)")
        for name in Self.subcommands {
            #expect(out.stdout.contains(name), "\(shell) completion lacks \(name)")
        }
        // Installed under these names, the completion functions must be for `sslm`.
        switch shell {
        case "bash": #expect(out.stdout.contains("complete") && out.stdout.contains(" sslm"))
        case "zsh": #expect(out.stdout.hasPrefix("#compdef sslm"))
        default: #expect(out.stdout.contains("complete -c 'sslm'"))
        }
    }

    @Test("the bash completion script is valid bash")
    func bashSyntax() throws {
        let dir = try ScratchTopdir("sslm-install")
        let out = try SSLMProcess.run(["--generate-completion-script", "bash"])
        let file = dir.path + "/sslm.bash"
        try out.stdout.write(toFile: file, atomically: true, encoding: .utf8)
        let check = try SSLMProcess.run(["-n", file], executable: try #require(Self.which("bash")))
        #expect(check.status == 0, "\(check.stderr)")
    }

    @Test("the help dump that generate-manual reads lists every subcommand")
    func helpDump() throws {
        let out = try SSLMProcess.run(["--experimental-dump-help"])
        #expect(out.status == 0, "\(out.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [String: Any])
        let command = try #require(json["command"] as? [String: Any])
        #expect(command["commandName"] as? String == "sslm")
        let names = (command["subcommands"] as? [[String: Any]] ?? []).compactMap { $0["commandName"] as? String }
        for name in Self.subcommands { #expect(names.contains(name), "dump lacks \(name)") }
    }

    /// Not conditional: `make test` builds generate-manual and scripts/install-deps installs groff-base,
    /// so a missing tool is a failure here, not a skipped check.
    @Test("scripts/make-manpage writes a man page that groff renders without warnings")
    func manPage() throws {
        let generateManual = try #require(Self.generateManual, "build it: swift build --product generate-manual")
        let groffPath = try #require(Self.which("groff"), "install groff-base (scripts/install-deps test)")
        let dir = try ScratchTopdir("sslm-install")
        let script = SSLMProcess.repositoryRoot + "/scripts/make-manpage"
        let made = try SSLMProcess.run(
            [SSLMProcess.executable, generateManual, dir.path, "2026-01-02"],
            executable: script)
        #expect(made.status == 0, "\(made.stderr)")
        let page = dir.path + "/sslm.1"
        let source = try String(contentsOfFile: page, encoding: .utf8)
        #expect(source.contains(".Dt SSLM 1"))
        #expect(source.contains(".Sh NAME"))
        #expect(source.contains(".Sh SYNOPSIS"))
        #expect(source.contains(".Sh DESCRIPTION"))
        #expect(source.contains(".Dd January 2, 2026"))
        #expect(
            !source.split(separator: "\n", omittingEmptySubsequences: false).dropLast().contains(""),
            "empty input lines left")
        // -ww: all warnings; -z: no output. mdoc prints its warnings on stderr. -P-bou: plain text, no overstrike.
        let groff = try SSLMProcess.run(["-mandoc", "-Tutf8", "-ww", "-z", page], executable: groffPath)
        #expect(groff.status == 0)
        #expect(groff.stderr.isEmpty, "\(groff.stderr)")
        let text = try SSLMProcess.run(
            ["-mandoc", "-Tutf8", "-P-bou", page], environment: ["LC_ALL": "C.UTF-8"],
            executable: groffPath)
        #expect(text.stdout.contains("NAME"))
        for name in Self.subcommands { #expect(text.stdout.contains(name), "man page lacks \(name)") }
    }
}
