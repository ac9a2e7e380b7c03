import Foundation
import Logging
import SSLMApply
import SSLMConfig
import SSLMCore
import SSLMDeploy
import SSLMPKI

/// `[notify] email`: after `sslm apply`, one mail when something needs a person — failed actions, blocked
/// services, a curr certificate within `expiry_days` of expiry without a next — sent through the
/// `sendmail -t` interface. Each condition is mailed at most once a day (`.sslm/notify.json` keeps when),
/// so an hourly cron run does not mail every hour about the same failure.
enum NotifyMail {
    struct Condition: Equatable {
        /// Stable identity for the once-a-day rule, e.g. `failed restart/smtp/mx1`.
        var key: String
        var text: String
        var advice: String
    }

    static func statePath(topdir: String) -> String { topdir + "/.sslm/notify.json" }

    /// What needs a person after this run.
    static func conditions(_ summary: RunHooks.RunSummary, status: StatusReport, expiryDays: Int) -> [Condition] {
        var conditions = summary.failures.map { failure in
            Condition(
                key: "failed \(failure.id)", text: "\(failure.id) failed: \(failure.reason)",
                advice:
                    "the next run retries it; fix the cause (see the log), or run `sslm plan` to see what is pending")
        }
        conditions += summary.blocked.map { blocked in
            Condition(
                key: "blocked \(blocked.subject)", text: "\(blocked.subject) is blocked: \(blocked.reason)",
                advice: "nothing is done for it until this is fixed by hand; `sslm status` shows the details")
        }
        for service in status.services {
            guard let curr = service.slots.first(where: { $0.slot == "curr" }),
                curr.daysLeft < Double(expiryDays), !service.slots.contains(where: { $0.slot == "next" })
            else { continue }
            let days = String(format: "%.1f", curr.daysLeft)
            conditions.append(
                Condition(
                    key: "expiring \(service.service)",
                    text: "\(service.service): curr expires in \(days) days and there is no next",
                    advice: "run `sslm plan \(service.service.replacingOccurrences(of: "/", with: ":"))` to see "
                        + "why no renewal is made; `sslm apply --force` renews now"))
        }
        return conditions
    }

    /// Mails the conditions not mailed in the last 24 hours (by the run's clock); returns a problem to
    /// report, or nil. Records what was mailed only when sendmail succeeded.
    static func send(
        _ conditions: [Condition], config: Config, now: Date, logger: Logger,
        runner: any CommandRunner = ProcessCommandRunner()
    ) async -> String? {
        let settings = config.notify
        guard !settings.email.isEmpty, !conditions.isEmpty else { return nil }
        var sent = readState(topdir: config.topdir)
        let due = conditions.filter { condition in
            sent[condition.key].map { now.timeIntervalSince($0) >= 86_400 } ?? true
        }
        guard !due.isEmpty else { return nil }
        let message = render(due, config: config, now: now)
        let command = Command(settings.sendmail, timeout: .seconds(60), input: Array(message.utf8))
        let result = await runner.run(command)
        guard result.succeeded else {
            return "[notify] \(command) \(result.termination): \(result.output.suffix(400))"
        }
        logger.notice("mailed \(due.count) condition(s) to \(settings.email.joined(separator: ", "))")
        for condition in due { sent[condition.key] = now }
        // Forget conditions that are over, so that they are mailed again if they come back.
        let open = Set(conditions.map(\.key))
        sent = sent.filter { open.contains($0.key) }
        writeState(sent, topdir: config.topdir)
        return nil
    }

    static func render(_ conditions: [Condition], config: Config, now: Date) -> String {
        let host = ProcessInfo.processInfo.hostName
        var lines = [
            "To: " + config.notify.email.joined(separator: ", "),
            "Subject: sslm on \(host): \(conditions.count) problem(s) need attention",
            "Auto-Submitted: auto-generated",
            "Content-Type: text/plain; charset=utf-8",
            "",
            "sslm apply on \(host) (topdir \(config.topdir)) at \(Timestamps.rfc3339(now)):",
            "",
        ]
        for condition in conditions {
            lines.append("- " + condition.text)
            lines.append("  What to do: " + condition.advice)
        }
        lines += [
            "",
            "`sslm status` shows every certificate; the log is in \(config.globals.logDir).",
            "Each problem is mailed at most once a day while it lasts.",
        ]
        return lines.joined(separator: "\n") + "\n"
    }

    static func readState(topdir: String) -> [String: Date] {
        guard let bytes = try? BoundedFile.read(statePath(topdir: topdir), limit: .state, followLinks: false),
            let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: String]
        else { return [:] }
        return object.compactMapValues(Timestamps.parseRFC3339)
    }

    static func writeState(_ state: [String: Date], topdir: String) {
        let object = state.mapValues(Timestamps.rfc3339)
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted])
        else { return }
        _ = try? ConfinedDirectory.open(topdir + "/.sslm", below: topdir, createMode: 0o700)
        try? AtomicFile.write(Array(data) + [10], to: statePath(topdir: topdir), root: topdir)
    }
}
