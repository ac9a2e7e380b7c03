import ArgumentParser
import Foundation
import SSLMConfig
import SSLMCore
import SSLMPlan

/// `sslm status`: every managed certificate, curr and next.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Every managed certificate: curr and next, expiry, renewal time, key, issuer.",
        discussion: "With -v also the SANs and the signature algorithm. --json prints the same as JSON.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Targets: group:svc1,svc2 or group:ALL (default: every active group).") var targets: [String] = []
    @Flag(help: "Print JSON.") var json = false
    @Option(
        help: ArgumentHelp(
            "For tests and simulations: report as if it were this time (RFC 3339). Also SSLM_NOW.",
            valueName: "time"))
    var now: String?
    @Option(
        name: .customLong("metrics-file"),
        help: ArgumentHelp(
            "Also write the status as a Prometheus textfile (for node_exporter's textfile collector).",
            valueName: "file"))
    var metricsFile: String?
    @Flag(help: "The --test (staging) state: the certificates in <topdir>/test/certs and <prod_cert_dir>.test.")
    var test = false

    func run() async throws {
        try options.run()
    }

    /// The parsed command line as plain values (what `StatusFastPath` builds without the parser).
    var options: StatusOptions {
        StatusOptions(
            topdir: global.topdir, verbose: global.verbose, targets: targets, json: json, now: now,
            metricsFile: metricsFile, test: test)
    }
}

/// What `sslm status` was asked: the values of `StatusCommand`'s options, for both ways of parsing them.
struct StatusOptions: Equatable {
    var topdir: String?
    var verbose = false
    var targets: [String] = []
    var json = false
    var now: String?
    var metricsFile: String?
    var test = false

    func run() throws {
        let session = try PlanSession.open(
            topdirOption: topdir, targetArguments: targets, now: now, gatherDNS: false, test: test,
            fingerprinted: false)
        let report = StatusReport.make(session: session)
        // Freed by the OS at exit rather than object by object on return (`ProcessLifetime`).
        ProcessLifetime.keepUntilExit((session.config, session.observation, report))
        if let metricsFile {
            try MetricsFile.write(
                MetricsFile.render(
                    status: report, lastSuccess: MetricsFile.readLastSuccess(topdir: session.topdir),
                    failures: nil),
                to: metricsFile)
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            encoder.dateEncodingStrategy = .iso8601
            let data = (try? encoder.encode(report)) ?? Data("{}".utf8)
            FileHandle.standardOutput.write(data + Data("\n".utf8))
        } else {
            print(report.text(verbose: verbose || session.config.globals.verbose), terminator: "")
        }
        if !report.stuck.isEmpty {
            Console.error(
                "error: the DANE roll of \(report.stuck.joined(separator: ", ")) is stuck (see dane.md: "
                    + "the TLSA records of next are not served by every name server)")
            throw ExitCode(1)
        }
    }
}

/// The status of the services of a run, as values (rendered as text or JSON).
struct StatusReport: Encodable {
    struct Slot: Encodable {
        var slot: String
        var directory: String
        var notBefore: Date
        var notAfter: Date
        var daysLeft: Double
        var lifetimeDays: Double
        var issuer: String
        var subject: String
        var key: String
        var sans: [String]
        var signatureAlgorithm: String
        var serial: String
        /// For curr: when renewal is due, and whether it is now.
        var renewAt: Date?
        var renewalDue: Bool?
    }

    struct Service: Encodable {
        var service: String
        var slots: [Slot]
        var problems: [String]
        /// What the next `sslm apply` would do for this service and why (the plan's first reason), or
        /// the note about it (not due, waiting to roll, blocked).
        var plan: String?
        /// A DANE roll waiting for its TLSA records: seconds since next was old enough to roll.
        var rollWaitingSeconds: Double?
        /// The roll has waited longer than `dane_roll_stuck_hours` (`roll_stuck`): `status` exits 1.
        var rollStuck: Bool?
    }

    /// Services whose DANE roll is stuck.
    var stuck: [String] { services.filter { $0.rollStuck == true }.map(\.service) }

    var now: Date
    var services: [Service]

    static func make(session: PlanSession) -> StatusReport {
        let plan = Planner.plan(
            PlanningRequest(
                config: session.config, observation: session.observation, now: session.now, targets: session.targets))
        var why: [String: String] = [:]
        for action in plan.actions {
            guard let service = action.service, why[service] == nil else { continue }
            why[service] = "\(action.reason.code): \(action.reason.message) (apply: \(action.kind.rawValue))"
        }
        var waitingCodes: [String: String] = [:]
        for note in plan.notes where why[note.subject] == nil {
            why[note.subject] = "\(note.reason.code): \(note.reason.message)"
            waitingCodes[note.subject] = note.reason.code
        }
        var services: [Service] = []
        for address in session.targets ?? session.config.activeServices {
            let state = session.observation.service(address)
            var slots: [Slot] = []
            var problems: [String] = []
            for (name, link) in [("curr", state?.curr), ("next", state?.next)] {
                guard let link, let state else { continue }
                switch link {
                case .absent: continue
                case .dangling(let target): problems.append("\(name) points to \(target), which does not exist")
                case .notALink: problems.append("\(name) is not a symbolic link")
                case .valid(let dbName):
                    guard let directory = state.dbDir(link), let certificate = directory.certificate else {
                        problems.append("\(name) (db/\(dbName)) has no readable cert.pem")
                        continue
                    }
                    var slot = Slot(
                        slot: name, directory: "db/\(dbName)", notBefore: certificate.notBefore,
                        notAfter: certificate.notAfter,
                        daysLeft: certificate.notAfter.timeIntervalSince(session.now) / 86_400,
                        lifetimeDays: certificate.lifetime, issuer: certificate.issuer, subject: certificate.subject,
                        key: certificate.publicKeyLabel, sans: certificate.sans,
                        signatureAlgorithm: certificate.signatureAlgorithm, serial: certificate.serialHex)
                    if name == "curr", let service = session.config.service(address) {
                        let assessment = RenewalAssessment(
                            certificate: certificate, renewInfo: service.renewInfo,
                            now: session.now)
                        slot.renewAt = assessment.renewAt
                        slot.renewalDue = assessment.isDue
                    }
                    slots.append(slot)
                }
            }
            if slots.isEmpty && problems.isEmpty { problems.append("no certificate yet") }
            var service = Service(
                service: address.description, slots: slots, problems: problems, plan: why[address.description])
            let code = waitingCodes[address.description]
            if code == ReasonCode.waitingForTLSA.rawValue || code == ReasonCode.rollStuck.rawValue,
                let next = slots.first(where: { $0.slot == "next" })
            {
                let minutes = session.config.globals.minRollMinutes
                let since = next.notBefore.addingTimeInterval(Double(minutes) * 60)
                service.rollWaitingSeconds = max(0, session.now.timeIntervalSince(since))
                service.rollStuck = code == ReasonCode.rollStuck.rawValue
            }
            services.append(service)
        }
        return StatusReport(now: session.now, services: services)
    }

    func text(verbose: Bool) -> String {
        var lines: [String] = []
        var lastGroup: String?
        for service in services {
            let parts = service.service.split(separator: "/", maxSplits: 1).map(String.init)
            let group = parts.first ?? ""
            if group != lastGroup {
                lines.append(String(repeating: "-", count: 24))
                lines.append(group)
                lastGroup = group
            }
            lines.append("  " + (parts.count > 1 ? parts[1] : service.service))
            for slot in service.slots {
                let label = slot.slot.padding(toLength: 12, withPad: " ", startingAt: 0)
                let blank = String(repeating: " ", count: 12)
                lines.append(
                    "         \(label) : expires: \(Self.date(slot.notAfter)) (\(Self.span(slot.notAfter.timeIntervalSince(now))))"
                )
                lines.append(
                    "         \(blank) : issued : \(Self.date(slot.notBefore)) (\(Self.span(now.timeIntervalSince(slot.notBefore))) ago) (\(Int(slot.lifetimeDays.rounded())) day cert)"
                )
                if let renewAt = slot.renewAt {
                    let state = slot.renewalDue == true ? "due now" : "in \(Self.span(renewAt.timeIntervalSince(now)))"
                    lines.append("         \(blank) : renew  : \(Self.date(renewAt)) (\(state))")
                }
                lines.append(Self.field("issuer", slot.issuer))
                lines.append(Self.field("subject", slot.subject))
                lines.append(Self.field("pubkey", slot.key))
                if verbose {
                    lines.append(Self.field("sans", slot.sans.joined(separator: ", ")))
                    lines.append(Self.field("sig_algo", slot.signatureAlgorithm))
                    lines.append(Self.field("serial", slot.serial))
                }
            }
            for problem in service.problems { lines.append("         ! \(problem)") }
            if let plan = service.plan { lines.append(Self.field("plan", plan)) }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private static func field(_ label: String, _ value: String) -> String {
        String(repeating: " ", count: max(0, 21 - label.count)) + label + " : " + value
    }

    static func date(_ date: Date) -> String {
        let text = Timestamps.rfc3339(date)
        return text.prefix(10) + " " + text.dropFirst(11).prefix(8) + " UTC"
    }

    /// `  21d 04:05:06` (negative spans as `-…`).
    static func span(_ seconds: Double) -> String {
        let sign = seconds < 0 ? "-" : ""
        var rest = Int(abs(seconds))
        let days = rest / 86_400
        rest %= 86_400
        let h = rest / 3600, m = (rest % 3600) / 60, s = rest % 60
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        let dayText = String(days)
        return sign + String(repeating: " ", count: max(0, 4 - dayText.count)) + dayText
            + "d \(two(h)):\(two(m)):\(two(s))"
    }
}
