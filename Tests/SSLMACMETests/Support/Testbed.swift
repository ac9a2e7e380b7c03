import Foundation
import Testing

/// Runs a program with an argv list (no shell) and collects its output.
enum Program {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static func run(_ argv: [String], environment: [String: String]? = nil) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: argv[0].hasPrefix("/") ? argv[0] : "/usr/bin/env")
        process.arguments = argv[0].hasPrefix("/") ? Array(argv.dropFirst()) : argv
        if let environment { process.environment = environment }
        // Files, not pipes: daemons the program leaves running must not hold our pipe open.
        let outPath = FileManager.default.temporaryDirectory.appendingPathComponent("sslm-acmetests-\(UUID()).out").path
        let errPath = outPath.replacingOccurrences(of: ".out", with: ".err")
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        defer {
            try? FileManager.default.removeItem(atPath: outPath)
            try? FileManager.default.removeItem(atPath: errPath)
        }
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        let err = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        process.standardOutput = out
        process.standardError = err
        try process.run()
        process.waitUntilExit()
        try? out.close()
        try? err.close()
        let outData = FileManager.default.contents(atPath: outPath) ?? Data()
        let errData = FileManager.default.contents(atPath: errPath) ?? Data()
        return Result(
            status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
            stderr: String(decoding: errData, as: UTF8.self))
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

/// A failure of the test harness itself (not of the code under test).
struct TestbedError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Paths of the repository this test file lives in.
enum Repo {
    static let root: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    static var pebbleTestbed: String { root.appendingPathComponent("scripts/testbed/pebble-testbed").path }
    static var acmeStandIn: String { root.appendingPathComponent("scripts/testbed/acme-standin.py").path }
}

/// A fresh temporary directory, removed by `remove()`.
struct TempDir {
    let path: String
    init() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("sslm-acmetests-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        self.path = path
    }
    func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }
    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// One pebble (Let's Encrypt's ACME test server) with pebble's test responder (pebble-challtestsrv,
/// its DNS and http-01 server), started by `scripts/testbed/pebble-testbed`.
final class PebbleTestbed: @unchecked Sendable {
    let dir: TempDir
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
        dir = try TempDir()
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

/// A stand-in ACME server (`scripts/testbed/acme-standin.py`) in one mode.
final class StandInServer: @unchecked Sendable {
    let dir: TempDir
    let process: Process
    let port: Int

    var directoryURL: String { "https://127.0.0.1:\(port)/dir" }
    var trustFile: String { dir.file("ca.pem") }

    init(mode: String) throws {
        dir = try TempDir()
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", Repo.acmeStandIn, "--mode", mode, "--dir", dir.path,
            "--port-file", dir.file("port"),
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        var port: Int?
        for _ in 0..<200 {
            if let text = try? String(contentsOfFile: dir.file("port"), encoding: .utf8),
                let value = Int(text.trimmingCharacters(in: .whitespacesAndNewlines))
            {
                port = value
                break
            }
            if !process.isRunning { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        guard let port else {
            process.terminate()
            dir.remove()
            throw TestbedError("the stand-in ACME server (mode \(mode)) did not start")
        }
        self.port = port
    }

    /// The JSON payloads the stand-in received, with their paths.
    func requests() throws -> [(path: String, payload: Any)] {
        let text = (try? String(contentsOfFile: dir.file("requests.jsonl"), encoding: .utf8)) ?? ""
        return try text.split(separator: "\n").map { line in
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] ?? [:]
            return (object["path"] as? String ?? "", object["payload"] ?? "")
        }
    }

    func stop() {
        process.terminate()
        for _ in 0..<40 where process.isRunning { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        dir.remove()
    }
}
