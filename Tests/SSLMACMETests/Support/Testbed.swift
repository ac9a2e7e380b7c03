import Foundation
import SSLMTestSupport
import Testing

/// Runs a program with an argv list (no shell) and collects its output.
enum Program {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static func run(_ argv: [String]) throws -> Result {
        let outcome = try ScriptRunner.run(argv)
        return Result(status: outcome.status, stdout: outcome.stdout, stderr: outcome.stderr)
    }

    /// Runs and requires exit status 0.
    @discardableResult
    static func check(_ argv: [String]) throws -> String {
        let result = try run(argv)
        guard result.status == 0 else {
            throw TestbedError(
                "\(argv.joined(separator: " ")) exited \(result.status): \(result.stderr)\(result.stdout)")
        }
        return result.stdout
    }
}

/// One pebble (Let's Encrypt's ACME test server) with pebble's test responder (pebble-challtestsrv,
/// its DNS and http-01 server), started by `scripts/testbed/pebble-testbed`.
final class PebbleTestbed: @unchecked Sendable {
    let dir: ScratchTopdir
    let env: [String: String]

    var directoryURL: String { env["PEBBLE_DIRECTORY"] ?? "" }
    var trustFile: String { env["PEBBLE_TRUST"] ?? "" }
    var management: String { env["PEBBLE_MGMT"] ?? "" }
    var responderManagement: String { env["CHALLTESTSRV_MGMT"] ?? "" }

    /// Starts pebble; fails (never skips) when pebble is not installed.
    init(_ options: [String] = []) throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/pebble"),
            FileManager.default.isExecutableFile(atPath: "/usr/bin/pebble-challtestsrv")
        else {
            throw TestbedError(
                "pebble is not installed (/usr/bin/pebble, /usr/bin/pebble-challtestsrv): "
                    + "run scripts/install-deps test")
        }
        dir = try ScratchTopdir()
        do {
            try Program.check([Repo.pebbleTestbed, "start", dir.path, "--challtestsrv"] + options)
            let text = try String(contentsOfFile: dir.file("env"), encoding: .utf8)
            var env: [String: String] = [:]
            for line in text.split(separator: "\n") {
                guard let eq = line.firstIndex(of: "=") else { continue }
                env[String(line[..<eq])] = String(line[line.index(after: eq)...])
            }
            self.env = env
        } catch {
            _ = try? Program.run([Repo.pebbleTestbed, "stop", dir.path])
            dir.remove()
            throw error
        }
    }

    func stop() {
        _ = try? Program.run([Repo.pebbleTestbed, "stop", dir.path])
        dir.remove()
    }

    /// A PEM from pebble's management interface (`/roots/0`, `/intermediates/0`).
    func managementPEM(_ path: String) throws -> String {
        try Program.check(["curl", "-fsS", "--cacert", trustFile, management + path])
    }

    /// Tells pebble's test responder to answer an http-01 challenge.
    func addHTTP01(token: String, content: String) throws {
        try responderPost("/add-http01", ["token": token, "content": content])
    }

    /// Tells pebble's test responder to serve a TXT record (`host` with a trailing dot).
    func addTXT(host: String, value: String) throws {
        try responderPost("/set-txt", ["host": host, "value": value])
    }

    private func responderPost(_ path: String, _ body: [String: String]) throws {
        let json = String(decoding: try JSONSerialization.data(withJSONObject: body), as: UTF8.self)
        try Program.check(["curl", "-fsS", "-X", "POST", "-d", json, responderManagement + path])
    }
}
