import Foundation
import SSLMApply
import SSLMCore
import SSLMPlan

/// A Prometheus text-format file for node_exporter's textfile collector (`--metrics-file`): certificate
/// expiry and renewal times per service, the last successful apply, and the failures of the last apply.
/// Written atomically (temporary file + rename), as the collector requires.
enum MetricsFile {
    static func render(status: StatusReport, lastSuccess: Date?, failures: [String: Int]?) -> String {
        var lines: [String] = []
        func escape(_ value: String) -> String {
            value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
                .replacingOccurrences(of: "\n", with: "\\n")
        }
        func seconds(_ date: Date) -> String { String(Int64(date.timeIntervalSince1970)) }
        lines.append(
            "# HELP sslm_certificate_expiry_timestamp_seconds notAfter of the certificate, by service and slot.")
        lines.append("# TYPE sslm_certificate_expiry_timestamp_seconds gauge")
        for service in status.services {
            for slot in service.slots {
                lines.append(
                    "sslm_certificate_expiry_timestamp_seconds{service=\"\(escape(service.service))\",slot=\"\(slot.slot)\"} \(seconds(slot.notAfter))"
                )
            }
        }
        lines.append(
            "# HELP sslm_certificate_renewal_timestamp_seconds When the current certificate becomes due for renewal.")
        lines.append("# TYPE sslm_certificate_renewal_timestamp_seconds gauge")
        for service in status.services {
            for slot in service.slots {
                if let renewAt = slot.renewAt {
                    lines.append(
                        "sslm_certificate_renewal_timestamp_seconds{service=\"\(escape(service.service))\"} \(seconds(renewAt))"
                    )
                }
            }
        }
        let waiting = status.services.filter { $0.rollWaitingSeconds != nil }
        if !waiting.isEmpty {
            lines.append(
                "# HELP sslm_dane_roll_waiting_seconds How long a DANE roll has waited for its TLSA records; "
                    + "sslm_dane_roll_stuck is 1 past dane_roll_stuck_hours.")
            lines.append("# TYPE sslm_dane_roll_waiting_seconds gauge")
            for service in waiting {
                let value = Int64(service.rollWaitingSeconds ?? 0)
                lines.append("sslm_dane_roll_waiting_seconds{service=\"\(escape(service.service))\"} \(value)")
            }
            lines.append("# TYPE sslm_dane_roll_stuck gauge")
            for service in waiting {
                lines.append(
                    "sslm_dane_roll_stuck{service=\"\(escape(service.service))\"} \(service.rollStuck == true ? 1 : 0)")
            }
        }
        lines.append("# HELP sslm_certificate_missing 1 when a service has no usable current certificate.")
        lines.append("# TYPE sslm_certificate_missing gauge")
        for service in status.services {
            let missing = service.slots.contains { $0.slot == "curr" } ? 0 : 1
            lines.append("sslm_certificate_missing{service=\"\(escape(service.service))\"} \(missing)")
        }
        if let lastSuccess {
            lines.append(
                "# HELP sslm_last_apply_success_timestamp_seconds End of the last apply in which every step succeeded.")
            lines.append("# TYPE sslm_last_apply_success_timestamp_seconds gauge")
            lines.append("sslm_last_apply_success_timestamp_seconds \(seconds(lastSuccess))")
        }
        if let failures {
            lines.append(
                "# HELP sslm_apply_failed_actions Failed steps of the last apply, by service (\"run\" for servers and DNS)."
            )
            lines.append("# TYPE sslm_apply_failed_actions gauge")
            for subject in failures.keys.sorted() {
                lines.append("sslm_apply_failed_actions{service=\"\(escape(subject))\"} \(failures[subject] ?? 0)")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Failed actions of a report per service (`run` for actions without one).
    static func failures(_ report: ApplyReport, plan: Plan) -> [String: Int] {
        var result: [String: Int] = [:]
        for service in Set(plan.actions.map { $0.service ?? "run" }) { result[service] = 0 }
        for failure in report.failures {
            result[plan.action(failure.id)?.service ?? "run", default: 0] += 1
        }
        return result
    }

    /// `<topdir>/.sslm/last-success`: the time of the last fully successful apply.
    static func lastSuccessPath(topdir: String) -> String { topdir + "/.sslm/last-success" }

    static func readLastSuccess(topdir: String) -> Date? {
        guard let data = try? BoundedFile.read(lastSuccessPath(topdir: topdir), limit: .state, followLinks: false)
        else { return nil }
        return Timestamps.parseRFC3339(
            String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    static func writeLastSuccess(topdir: String, date: Date) {
        try? Data((Timestamps.rfc3339(date) + "\n").utf8).write(
            to: URL(fileURLWithPath: lastSuccessPath(topdir: topdir)), options: .atomic)
    }

    /// Writes `text` to `path` atomically (a temporary file in the same directory, then rename).
    static func write(_ text: String, to path: String) throws {
        do {
            try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw CLIError("cannot write the metrics file \(path): \(error.localizedDescription)")
        }
    }
}
