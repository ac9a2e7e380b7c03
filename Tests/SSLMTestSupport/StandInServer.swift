import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Paths of the repository this test file lives in.
public enum Repo {
    public static let root: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent()
        .deletingLastPathComponent()
    public static var pebbleTestbed: String { root.appendingPathComponent("scripts/testbed/pebble-testbed").path }
    public static var acmeStandIn: String { root.appendingPathComponent("scripts/testbed/acme-standin.py").path }
}

/// A stand-in ACME server (`scripts/testbed/acme-standin.py`) in one mode.
public final class StandInServer: @unchecked Sendable {
    public let dir: ScratchTopdir
    let pid: pid_t
    public let port: Int

    public var directoryURL: String { "https://127.0.0.1:\(port)/dir" }
    public var trustFile: String { dir.file("ca.pem") }

    public init(mode: String) throws {
        dir = try ScratchTopdir("sslm-acmetests")
        pid = try ScriptRunner.spawnDaemon(
            ["/usr/bin/python3", Repo.acmeStandIn, "--mode", mode, "--dir", dir.path, "--port-file", dir.file("port")],
            log: dir.file("standin.log"))
        var port: Int?
        for _ in 0..<200 {
            if let text = try? String(contentsOfFile: dir.file("port"), encoding: .utf8),
                let value = Int(text.trimmingCharacters(in: .whitespacesAndNewlines))
            {
                port = value
                break
            }
            if !ScriptRunner.isRunning(pid) { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        guard let port else {
            ScriptRunner.stop(pid)
            dir.remove()
            throw StandInError(description: "the stand-in ACME server (mode \(mode)) did not start")
        }
        self.port = port
    }

    /// The JSON payloads the stand-in received, with their paths.
    public func requests() throws -> [(path: String, payload: Any)] {
        let text = (try? String(contentsOfFile: dir.file("requests.jsonl"), encoding: .utf8)) ?? ""
        return try text.split(separator: "\n").map { line in
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] ?? [:]
            return (object["path"] as? String ?? "", object["payload"] ?? "")
        }
    }

    public func stop() {
        ScriptRunner.stop(pid, graceSeconds: 2)
        dir.remove()
    }
}

/// The stand-in did not start.
public struct StandInError: Error, CustomStringConvertible {
    public var description: String
}

extension StandInServer {
    /// What the `boulder-ari` stand-in issued (`DIR/issued.json`): ARI id → `account`, `replaced`, `serial`.
    public func issued() -> [String: [String: Any]] {
        guard let data = FileManager.default.contents(atPath: dir.file("issued.json")),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: [String: Any]]
        else { return [:] }
        return object
    }

    /// The payloads of the `newOrder` requests, in order (refused ones included).
    public func newOrders() throws -> [[String: Any]] {
        try requests().filter { $0.path == "/new-order" }.map { $0.payload as? [String: Any] ?? [:] }
    }
}
