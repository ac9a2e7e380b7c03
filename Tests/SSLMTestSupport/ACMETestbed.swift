import Foundation

/// The project's ACME integration test bed, started by the scripts in `scripts/testbed/`: a real nsd
/// primary and secondary serving signed example.com / example.net zones (with `$INCLUDE`d acme-challenge
/// and TLSA files), nginx serving http-01 tokens, and Debian's pebble (a real ACME server) validating
/// against them. Every daemon listens on 127.0.0.1 and free ports; `stop()` ends them all.
public final class ACMETestbed: @unchecked Sendable {
    public let directory: String
    public let dns: [String: String]
    public let web: [String: String]
    public private(set) var pebble: [String: String]
    /// Where nginx serves `<apex>/.well-known/acme-challenge/` from.
    public let webroot: String
    private let pebbleArguments: [String]

    public static var scripts: String { Repo.root.path + "/scripts/testbed" }

    /// Starts the three parts; `pebbleOptions` are extra `pebble-testbed start` options (`--nonce-reject 20`).
    public init(pebbleOptions: [String] = [], webroot: String? = nil) throws {
        directory = ScratchTopdir.newPath("sslm-acme")
        try ScratchTopdir.makeDirectory(directory, parents: true)
        self.webroot = webroot ?? directory + "/webroot"
        try FileManager.default.createDirectory(atPath: self.webroot, withIntermediateDirectories: true)
        for binary in ["/usr/sbin/nsd", "/usr/bin/pebble", "/usr/sbin/nginx", "/usr/bin/ldns-signzone"] {
            guard FileManager.default.isExecutableFile(atPath: binary) else {
                throw TestbedError("\(binary) is missing: run scripts/install-deps test")
            }
        }
        dns = try Self.start(
            "dns-testbed", ["start", directory + "/dns", "--zones", "example.com,example.net"],
            envFile: directory + "/dns/env")
        do {
            let port = try Self.freePort()
            web = try Self.start(
                "web-testbed",
                [
                    "start", directory + "/web", "--port", String(port),
                    "--webroot", self.webroot,
                ], envFile: directory + "/web/env")
            pebbleArguments = ["--dns", dns["DNS_PRIMARY"] ?? "", "--http-port", web["WEB_PORT"] ?? ""] + pebbleOptions
            pebble = try Self.start(
                "pebble-testbed", ["start", directory + "/pebble"] + pebbleArguments,
                envFile: directory + "/pebble/env")
        } catch {
            _ = try? Self.script("dns-testbed", ["stop", directory + "/dns"])
            _ = try? Self.script("web-testbed", ["stop", directory + "/web"])
            throw error
        }
    }

    deinit { stop() }

    public func stop() {
        _ = try? Self.script("pebble-testbed", ["stop", directory + "/pebble"])
        _ = try? Self.script("web-testbed", ["stop", directory + "/web"])
        _ = try? Self.script("dns-testbed", ["stop", directory + "/dns"])
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Stops pebble (all its state is lost) and starts a new one on new ports; the topdir must then be
    /// rewritten with the new directory URL.
    public func restartPebble() throws {
        _ = try Self.script("pebble-testbed", ["stop", directory + "/pebble"])
        pebble = try Self.start(
            "pebble-testbed", ["start", directory + "/pebble"] + pebbleArguments,
            envFile: directory + "/pebble/env")
    }

    public func dnsControl(_ command: String) throws {
        let output = try Self.script("dns-testbed", [command, directory + "/dns"])
        guard output.status == 0 else { throw TestbedError("dns-testbed \(command): \(output.stderr)") }
    }

    /// Lines of the DNS refresh log (one per `dns-refresh` call).
    public var refreshLog: [String] {
        ((try? String(contentsOfFile: directory + "/dns/refresh.log", encoding: .utf8)) ?? "")
            .split(separator: "\n").map(String.init)
    }

    /// pebble's root and intermediate (PEM), regenerated on every pebble start.
    public func issuerFiles() throws -> (root: String, intermediate: String) {
        let root = directory + "/pebble-root.pem"
        let intermediate = directory + "/pebble-intermediate.pem"
        for (path, url) in [(root, "/roots/0"), (intermediate, "/intermediates/0")] {
            let output = try ScriptRunner.run(
                [
                    "/usr/bin/curl", "-s", "--fail", "--cacert", pebble["PEBBLE_TRUST"] ?? "", "-o", path,
                    (pebble["PEBBLE_MGMT"] ?? "") + url,
                ])
            guard output.status == 0 else { throw TestbedError("cannot fetch \(url) from pebble: \(output.stderr)") }
        }
        return (root, intermediate)
    }

    // MARK: topdir

    /// A service of the test topdir.
    public struct Service: Sendable {
        public var apex: String
        public var name: String
        public var ca: String
        public var sans: [String]
        public var key: String  // "ec" or "rsa"
        public var dane: Bool

        public init(apex: String, name: String, ca: String, sans: [String], key: String, dane: Bool = false) {
            self.apex = apex
            self.name = name
            self.ca = ca
            self.sans = sans
            self.key = key
            self.dane = dane
        }
    }

    /// Writes `<topdir>/conf.d` for `services`: CAs `pebble-http` (http-01) and `pebble-dns` (dns-01) at
    /// this test bed's pebble, its DNS servers and refresh command, its web root.
    public func writeTopdir(
        _ topdir: String, services: [Service], extraGlobals: String = "", webServers: [String] = [],
        serverDir: String? = nil
    ) throws {
        let builder = ScratchTopdir(at: topdir)
        let primary = dns["DNS_PRIMARY"] ?? ""
        let secondary = dns["DNS_SECONDARY"] ?? ""
        let (primaryHost, primaryPort) = Self.split(primary)
        let apexes = Array(Set(services.map(\.apex))).sorted()
        var main = """
            [globals]
                prod_cert_dir = '\(topdir)/prod'
                logdir = '\(topdir)/logs'
                min_roll_mins = 0
                dns_check_delay = 0
                dns_xtra_ns = []
            \(extraGlobals)

            """
        for apex in apexes {
            let names = services.filter { $0.apex == apex }.map { "'\($0.name)'" }.joined(separator: ", ")
            main += "[[groups]]\n    domain = '\(apex)'\n    services = [\(names)]\n    active = true\n\n"
        }
        main += """
            [[dns_primary]]
                domain = 'default'
                server = '\(primaryHost)'
                port = \(primaryPort)

            [[dns_nameservers]]
                domain = 'default'
                servers = ['\(primary)', '\(secondary)']

            [dns]
                restart_cmd = ['\(dns["DNS_REFRESH"] ?? "") --testbed \(directory)/dns']
                acme_dir = '\(dns["DNS_ACME_DIR"] ?? "")'
                tlsa_dirs = ['\(dns["DNS_TLSA_DIR"] ?? "")']
                depends = ['dns']

            [web]
                servers = [\(webServers.map { "'\($0)'" }.joined(separator: ", "))]
                server_dir = '\(serverDir ?? webroot)'

            """
        try builder.writeConf(["ssl-mgr.conf": main])
        try writeCAInfo(topdir)
        for service in services {
            let keyOptions =
                service.key == "rsa" ? "ktype = 'rsa'\n    rsa_bits = 2048" : "ktype = 'ec'\n    ec_algo = 'secp256r1'"
            let text = """
                name = '\(service.name)'
                group = '\(service.apex)'
                service = '\(service.name)'
                signing_ca = '\(service.ca)'
                dane_tls = \(service.dane ? "[[443, 'tcp', 3, 1, 1]]" : "[]")
                [KeyOpts]
                    \(keyOptions)
                [X509]
                    CN = '\(service.sans[0])'
                    O = 'sslm tests'
                    C = 'US'
                    email = 'hostmaster@\(service.apex)'
                    sans = [\(service.sans.map { "'\($0)'" }.joined(separator: ", "))]

                """
            try builder.writeConf(["\(service.apex)/\(service.name)": text])
        }
    }

    /// (Re)writes `ca-info.conf` with this test bed's current pebble.
    /// With `stagingOnly`, pebble is the CAs' *staging* directory and the production directory is a port
    /// where nothing listens (to prove `--test` uses staging).
    public func writeCAInfo(_ topdir: String, stagingOnly: Bool = false) throws {
        let pebbleURL = pebble["PEBBLE_DIRECTORY"] ?? ""
        let directoryURL = stagingOnly ? "https://127.0.0.1:9/dir" : pebbleURL
        let staging = stagingOnly ? "\n    ca_staging_directory_url = '\(pebbleURL)'" : ""
        let trust = pebble["PEBBLE_TRUST"] ?? ""
        let text = """
            [pebble-http]
                ca_desc = 'pebble, http-01'
                ca_type = 'acme'
                ca_validation = 'http-01'
                ca_directory_url = '\(directoryURL)'\(staging)
                ca_trust_file = '\(trust)'

            [pebble-dns]
                ca_desc = 'pebble, dns-01'
                ca_type = 'acme'
                ca_validation = 'dns-01'
                ca_directory_url = '\(directoryURL)'\(staging)
                ca_trust_file = '\(trust)'

            """
        try ScratchTopdir(at: topdir).writeConf(["ca-info.conf": text])
    }

    // MARK: scripts

    /// Runs a test bed script (posix_spawn, output in files: the daemons it starts inherit them).
    public static func script(_ name: String, _ arguments: [String]) throws -> ScriptRunner.Outcome {
        try ScriptRunner.run([scripts + "/" + name] + arguments)
    }

    private static func start(_ name: String, _ arguments: [String], envFile: String) throws -> [String: String] {
        let output = try script(name, arguments)
        guard output.status == 0 else {
            throw TestbedError(
                "\(name) \(arguments.joined(separator: " ")) failed (\(output.status)): \(output.stderr)\(output.stdout)"
            )
        }
        return try readEnv(envFile)
    }

    public static func readEnv(_ path: String) throws -> [String: String] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var values: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let equals = line.firstIndex(of: "="), !line.hasPrefix("#") else { continue }
            var value = String(line[line.index(after: equals)...])
            if value.count >= 2, value.first == "'" || value.first == "\"", value.last == value.first {
                value = String(value.dropFirst().dropLast())
            }
            values[String(line[..<equals]).trimmingCharacters(in: .whitespaces)] = value
        }
        return values
    }

    public static func split(_ address: String) -> (String, Int) {
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]) else {
            return (address, 53)
        }
        return (String(address[..<colon]), port)
    }

    /// A TCP port nothing listens on right now (bind to port 0 and read it back).
    public static func freePort() throws -> Int {
        let output = try ScriptRunner.run(
            [
                "/usr/bin/python3", "-c",
                "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])",
            ])
        guard let port = Int(output.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw TestbedError("no free port: \(output.stderr)")
        }
        return port
    }
}

/// A failure of a test harness itself (not of the code under test).
public struct TestbedError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
