import ArgumentParser
import Foundation
import SSLMApply
import SSLMCore

/// `sslm check`: parses the options, makes one `DANECheck.run` call (DANE and TLS endpoints, probed
/// concurrently), prints the report (text or JSON) and exits 0 (OK, warnings included) or 1 (something does
/// not match, or could not be checked).
struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Live checks: served certificates against curr, their chains, and published TLSA records.",
        discussion: """
            DANE: for every DANE service (dane_tls) and every TLSA owner host (the apex plus its MX hosts or the \
            certificate's SANs), sslm looks up the TLSA records, connects to the server (STARTTLS smtp for \
            ports 25 and 587, direct TLS otherwise; see --starttls) and reports whether the served chain matches \
            a published record and whether the served certificate is sslm's curr.

            TLS endpoints: for every service with check_endpoints = ['HOST:PORT', 'HOST:PORT=PROTOCOL', ...] in \
            its service file (PROTOCOL: a STARTTLS protocol as for --starttls, or none), and for every web \
            service without it (one that [web] svc_depends names, or whose CA validates with http-01: its SANs \
            on port 443), sslm connects and reports whether the served certificate is sslm's curr (or next, or \
            neither), whether the served chain verifies (to the root of the service's chain.pem, or the system \
            trust store, for the endpoint's host name) and how many days it has left (a warning inside the \
            renewal window, a failure once expired). check_endpoints = [] turns the web default off.

            It also reports production certificates inside their renewal window without a next (a warning) and \
            expired ones. Endpoints are probed concurrently, at most --parallel at a time; the report keeps the \
            configuration's order. Host names are looked up at --resolver or the group's [[dns_primary]] \
            (never /etc/resolv.conf) unless --connect says where to go.

            DNSSEC: with --resolver, TLSA answers must carry the AD flag of that validating resolver. Without it, \
            the [[dns_primary]] is asked and answers are not validated. An answer that is not validated is a \
            failure unless --allow-unvalidated makes it a warning. Exit status: 0 all OK (warnings allowed), \
            1 anything failed, 64 bad options. See Docs/check.md.
            """)
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Targets: group:svc1,svc2 or group:ALL (default: every active group).") var targets: [String] = []
    @Flag(help: "Print JSON.") var json = false

    @Option(
        help: ArgumentHelp(
            "A validating resolver (e.g. unbound) whose AD flag is trusted; TLSA, MX and address lookups go there.",
            valueName: "addr:port"))
    var resolver: String?

    @Option(
        help: ArgumentHelp(
            "Connect here for this host instead of its A/AAAA record and the endpoint's port (repeatable).",
            valueName: "host=addr:port"))
    var connect: [String] = []

    @Option(
        help: ArgumentHelp(
            "STARTTLS protocol for a port: DANE endpoints and check_endpoints entries without =PROTOCOL "
                + "(repeatable; openssl s_client -starttls names, or none). Default 25=smtp, 587=smtp.",
            valueName: "port=proto"))
    var starttls: [String] = []

    @Flag(
        name: .customLong("allow-unvalidated"),
        help: "TLSA answers that are not DNSSEC-validated are warnings, not failures.")
    var allowUnvalidated = false

    @Option(help: "Seconds per TLS connection (and at most 3 per DNS attempt).") var timeout: Double = 10

    @Option(
        help: ArgumentHelp(
            "Endpoints probed at once (\(DANECheckOptions.concurrencyRange.lowerBound)–"
                + "\(DANECheckOptions.concurrencyRange.upperBound)).",
            valueName: "n"))
    var parallel: Int = DANECheckOptions.defaultConcurrency

    @Option(
        help: ArgumentHelp(
            "For tests: check the renewal window and verify served chains as if it were this time (RFC 3339).",
            valueName: "time"))
    var now: String?

    func validate() throws {
        if let resolver, case .failure(let error) = NameserverAddress.parse(resolver) {
            throw ValidationError("--resolver \(resolver): \(error.description)")
        }
        for item in connect {
            if case .failure(let error) = DANECheckOptions.parseConnect(item) { throw ValidationError(error.message) }
        }
        for item in starttls {
            if case .failure(let error) = DANECheckOptions.parseStartTLS(item) { throw ValidationError(error.message) }
        }
        guard timeout > 0 else { throw ValidationError("--timeout: expected more than 0 seconds") }
        guard DANECheckOptions.concurrencyRange.contains(parallel) else {
            throw ValidationError(
                "--parallel: expected \(DANECheckOptions.concurrencyRange.lowerBound)–"
                    + "\(DANECheckOptions.concurrencyRange.upperBound), found \(parallel)")
        }
    }

    func run() async throws {
        let session = try PlanSession.open(global: global, targetArguments: targets, now: now, gatherDNS: false)
        var options = DANECheckOptions(
            allowUnvalidated: allowUnvalidated, timeoutSeconds: timeout, now: session.now, concurrency: parallel)
        options.resolver = try resolver.map { try NameserverAddress.parse($0).get() }
        for item in connect {
            let (host, address) = try DANECheckOptions.parseConnect(item).get()
            options.connect[host] = address
        }
        for item in starttls {
            let (port, name) = try DANECheckOptions.parseStartTLS(item).get()
            options.starttls[port] = name
        }
        let report = await DANECheck.run(
            config: session.config, services: session.targets ?? session.config.activeServices, options: options)
        if json {
            print(try report.json())
        } else {
            print(report.text(verbose: global.verbose || session.config.globals.verbose), terminator: "")
        }
        if report.exitCode != 0 { throw ExitCode(report.exitCode) }
    }
}
