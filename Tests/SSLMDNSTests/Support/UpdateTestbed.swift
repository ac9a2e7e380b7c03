import Foundation
import SSLMConfig
import SSLMCore
import SSLMTestSupport

/// A DNS server that takes TSIG-signed dynamic updates, for one test: Knot DNS (scripts/testbed/knot-testbed:
/// a DNSSEC-signing primary and an IXFR secondary) or BIND 9 (scripts/testbed/bind-testbed: one primary), on
/// free loopback ports in a fresh directory; stopped and removed when released. Missing tools make `init`
/// throw (the test fails with the message; it is never skipped).
final class UpdateTestbed: @unchecked Sendable {
    enum Server: String, Sendable, CaseIterable, CustomStringConvertible {
        case knot
        case bind

        var script: String {
            DNSTestbed.repositoryRoot.appendingPathComponent("scripts/testbed/\(rawValue)-testbed").path
        }
        var prefix: String { rawValue.uppercased() + "_" }
        var tools: [String] { self == .knot ? ["knotd", "tsig-keygen", "dig"] : ["named", "tsig-keygen", "dig"] }
        var description: String { self == .knot ? "Knot DNS" : "BIND 9" }
    }

    let server: Server
    let directory: String
    let env: [String: String]
    private var stopped = false

    init(_ server: Server, zones: [String] = ["example.com", "example.net"]) throws {
        let missing = server.tools.filter { !ScriptRunner.hasTool($0) }
        guard missing.isEmpty else {
            throw SSLMError(
                .unsupported,
                "the \(server) test bed needs \(missing.joined(separator: ", ")): install the Debian packages knot, "
                    + "bind9, bind9-utils and dnsutils (scripts/install-deps test)")
        }
        self.server = server
        var template = Array("/tmp/sslm-\(server.rawValue)tb-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw SSLMError(.ioFailure, "mkdtemp failed") }
        directory = String(cString: made)
        let outcome = try ScriptRunner.run([server.script, "start", directory, "--zones", zones.joined(separator: ",")])
        guard outcome.succeeded else {
            _ = try? ScriptRunner.run([server.script, "stop", directory])
            try? FileManager.default.removeItem(atPath: directory)
            throw SSLMError(
                .ioFailure,
                "\(server.rawValue)-testbed start failed (\(outcome.status)): \(outcome.stderr)\(outcome.stdout)")
        }
        env = try DNSTestbed.readEnv(directory + "/env")
    }

    deinit { stop() }

    func stop() {
        guard !stopped else { return }
        stopped = true
        _ = try? ScriptRunner.run([server.script, "stop", directory])
        try? FileManager.default.removeItem(atPath: directory)
    }

    func value(_ key: String) throws -> String {
        guard let value = env[server.prefix + key], !value.isEmpty else {
            throw SSLMError(.malformedInput, "\(directory)/env has no \(server.prefix + key)")
        }
        return value
    }

    var primary: NameserverAddress { get throws { try NameserverAddress.parse(try value("PRIMARY")).get() } }
    /// Knot's secondary (BIND's test bed has none).
    var secondary: NameserverAddress? {
        get throws {
            server == .knot ? try NameserverAddress.parse(try value("SECONDARY")).get() : nil
        }
    }
    /// The key the server accepts, read the way `config check` reads `tsig_key_file`.
    var key: TSIGKey { get throws { try TSIGKeyFile.load(try value("KEY_FILE")).get() } }
    var unmanagedTXT: String { get throws { try value("UNMANAGED_TXT") } }
    var unmanagedTLSA: String { get throws { try value("UNMANAGED_TLSA") } }

    /// UPDATE messages the server has processed (Knot) or that changed a zone (BIND), from its log.
    func updatesProcessed() throws -> Int {
        let outcome = try ScriptRunner.run([server.script, "updates", directory])
        guard outcome.succeeded, let count = Int(outcome.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw SSLMError(.ioFailure, "\(server.rawValue)-testbed updates failed: \(outcome.stderr)")
        }
        return count
    }

    func stopPrimary() throws { try run([server.script, "stop-primary", directory]) }
    func startPrimary() throws { try run([server.script, "start-primary", directory]) }

    /// `dig +dnssec +norecurse` of `name`/`type` at `server` (pinned address and port): the answer section.
    func dnssecAnswer(_ name: String, _ type: String, at address: NameserverAddress) throws -> String {
        let outcome = try ScriptRunner.run([
            "dig", "+dnssec", "+norecurse", "+noall", "+answer", "+time=2", "+tries=1", "@\(address.host)", "-p",
            "\(address.port)", name, type,
        ])
        guard outcome.succeeded else { throw SSLMError(.ioFailure, "dig failed: \(outcome.stderr)") }
        return outcome.stdout
    }

    private func run(_ argv: [String]) throws {
        let outcome = try ScriptRunner.run(argv)
        guard outcome.succeeded else {
            throw SSLMError(.ioFailure, "\(argv.joined(separator: " ")) failed (\(outcome.status)): \(outcome.stderr)")
        }
    }
}
