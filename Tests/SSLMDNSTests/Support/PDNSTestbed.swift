import Foundation
import SSLMConfig
import SSLMCore
import SSLMTestSupport

/// PowerDNS Authoritative with its HTTP API, for one test (scripts/testbed/pdns-testbed): an sqlite backend in a
/// fresh directory, DNS and the API on free loopback ports; stopped and removed when released. Missing tools make
/// `init` throw (the test fails with the message; it is never skipped).
final class PDNSTestbed: @unchecked Sendable {
    static let script = DNSTestbed.repositoryRoot.appendingPathComponent("scripts/testbed/pdns-testbed").path
    static let tools = ["pdns_server", "pdnsutil", "curl", "dig"]

    let directory: String
    let env: [String: String]
    private var stopped = false

    init(zones: [String] = ["example.com", "example.net"]) throws {
        let missing = Self.tools.filter { !ScriptRunner.hasTool($0) }
        guard missing.isEmpty else {
            throw SSLMError(
                .unsupported,
                "the PowerDNS test bed needs \(missing.joined(separator: ", ")): install the Debian packages "
                    + "pdns-server, pdns-backend-sqlite3, curl and dnsutils (scripts/install-deps test)")
        }
        var template = Array("/tmp/sslm-pdnstb-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw SSLMError(.ioFailure, "mkdtemp failed") }
        directory = String(cString: made)
        let outcome = try ScriptRunner.run([Self.script, "start", directory, "--zones", zones.joined(separator: ",")])
        guard outcome.succeeded else {
            _ = try? ScriptRunner.run([Self.script, "stop", directory])
            try? FileManager.default.removeItem(atPath: directory)
            throw SSLMError(
                .ioFailure, "pdns-testbed start failed (\(outcome.status)): \(outcome.stderr)\(outcome.stdout)")
        }
        env = try DNSTestbed.readEnv(directory + "/env")
    }

    deinit { stop() }

    func stop() {
        guard !stopped else { return }
        stopped = true
        _ = try? ScriptRunner.run([Self.script, "stop", directory])
        try? FileManager.default.removeItem(atPath: directory)
    }

    func value(_ key: String) throws -> String {
        guard let value = env["PDNS_" + key], !value.isEmpty else {
            throw SSLMError(.malformedInput, "\(directory)/env has no PDNS_\(key)")
        }
        return value
    }

    /// PowerDNS's DNS listener (pinned address and port).
    var dns: NameserverAddress { get throws { try NameserverAddress.parse(try value("DNS")).get() } }
    var apiURL: String { get throws { try value("API_URL") } }
    var apiKey: String { get throws { try value("API_KEY") } }
    var unmanagedTXT: String { get throws { try value("UNMANAGED_TXT") } }
    var unmanagedTLSA: String { get throws { try value("UNMANAGED_TLSA") } }

    /// The variables examples/dns-providers/pdns-api reads.
    var providerEnvironment: [String: String] {
        get throws { ["PDNS_API_URL": try apiURL, "PDNS_API_KEY": try apiKey, "PDNS_SERVER_ID": "localhost"] }
    }

    func stopServer() throws { try run([Self.script, "stop-server", directory]) }
    func startServer() throws { try run([Self.script, "start-server", directory]) }

    private func run(_ argv: [String]) throws {
        let outcome = try ScriptRunner.run(argv)
        guard outcome.succeeded else {
            throw SSLMError(.ioFailure, "\(argv.joined(separator: " ")) failed (\(outcome.status)): \(outcome.stderr)")
        }
    }
}
