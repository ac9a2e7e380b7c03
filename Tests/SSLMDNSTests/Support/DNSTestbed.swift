import Foundation
import SSLMCore

/// The project's DNS test bed (scripts/testbed/dns-testbed) for one test: a signed nsd primary and an AXFR
/// secondary on free loopback ports, in a fresh directory. Stopped and removed when released, whatever the
/// test did. Missing tools make `init` throw (the test fails with the message; it is never skipped).
final class DNSTestbed: @unchecked Sendable {
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let script = repositoryRoot.appendingPathComponent("scripts/testbed/dns-testbed").path
    static let requiredTools = ["nsd", "nsd-control", "nsd-control-setup", "ldns-keygen", "ldns-signzone", "dig"]

    let directory: String
    let env: [String: String]
    let zones: [String]
    private var stopped = false

    init(zones: [String] = ["example.com"]) throws {
        let missing = Self.requiredTools.filter { !ScriptRunner.hasTool($0) }
        guard missing.isEmpty else {
            throw SSLMError(
                .unsupported,
                "the DNS test bed needs \(missing.joined(separator: ", ")): install the Debian packages nsd, "
                    + "ldnsutils and dnsutils (scripts/install-deps)")
        }
        var template = Array("/tmp/sslm-dnstb-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw SSLMError(.ioFailure, "mkdtemp failed") }
        directory = String(cString: made)
        self.zones = zones
        let outcome = try ScriptRunner.run([Self.script, "start", directory, "--zones", zones.joined(separator: ",")])
        guard outcome.succeeded else {
            _ = try? ScriptRunner.run([Self.script, "stop", directory])
            try? FileManager.default.removeItem(atPath: directory)
            throw SSLMError(
                .ioFailure, "dns-testbed start failed (\(outcome.status)): \(outcome.stderr)\(outcome.stdout)")
        }
        env = try Self.readEnv(directory + "/env")
    }

    deinit { stop() }

    func stop() {
        guard !stopped else { return }
        stopped = true
        _ = try? ScriptRunner.run([Self.script, "stop", directory])
        try? FileManager.default.removeItem(atPath: directory)
    }

    static func readEnv(_ path: String) throws -> [String: String] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var values: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            values[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        return values
    }

    func value(_ key: String) throws -> String {
        guard let value = env[key], !value.isEmpty else {
            throw SSLMError(.malformedInput, "\(directory)/env has no \(key)")
        }
        return value
    }

    private func address(_ key: String) throws -> NameserverAddress {
        try NameserverAddress.parse(try value(key)).get()
    }

    var primary: NameserverAddress { get throws { try address("DNS_PRIMARY") } }
    var secondary: NameserverAddress { get throws { try address("DNS_SECONDARY") } }

    /// The serial dns-refresh last wrote for `zone`.
    func recordedSerial(_ zone: String) throws -> UInt32 {
        let text = try String(contentsOfFile: "\(directory)/state/\(zone).serial", encoding: .utf8)
        guard let serial = UInt32(text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw SSLMError(.malformedInput, "bad serial file for \(zone)")
        }
        return serial
    }

    func writeACME(_ zone: String, _ text: String) throws {
        try text.write(toFile: try value("DNS_ACME_DIR") + "/acme-challenge.\(zone)", atomically: true, encoding: .utf8)
    }

    func writeTLSA(_ zone: String, _ text: String) throws {
        try text.write(toFile: try value("DNS_TLSA_DIR") + "/tlsa.\(zone)", atomically: true, encoding: .utf8)
    }

    /// Runs the refresh command the way sslm does: `dns-refresh --testbed DIR --serial_bump ZONE…`.
    func refresh(_ zones: [String]? = nil) throws {
        try run([try value("DNS_REFRESH"), "--testbed", directory, "--serial_bump"] + (zones ?? self.zones))
    }

    func holdSecondary() throws { try run([Self.script, "hold-secondary", directory]) }
    func releaseSecondary() throws { try run([Self.script, "release-secondary", directory]) }
    func stopPrimary() throws { try run([Self.script, "stop-primary", directory]) }
    func startPrimary() throws { try run([Self.script, "start-primary", directory]) }

    func run(_ argv: [String]) throws {
        let outcome = try ScriptRunner.run(argv)
        guard outcome.succeeded else {
            throw SSLMError(
                .ioFailure, "\(argv.joined(separator: " ")) failed (\(outcome.status)): \(outcome.stderr)")
        }
    }
}
