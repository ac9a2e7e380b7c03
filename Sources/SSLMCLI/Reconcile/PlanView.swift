import Foundation
import SSLMCore
import SSLMPlan

/// The human rendering of a plan: counts by kind, then each subject (service, apex, servers) with its
/// reason and actions, then the notes. Deterministic: same plan, same text.
enum PlanView {
    static func render(_ plan: Plan, topdir: String?, verbose: Bool = false) -> String {
        var lines: [String] = []
        let header =
            "Plan" + (topdir.map { " for \($0)" } ?? "") + " at \(plan.now)"
            + (plan.options.phase == .all ? "" : " (--phase \(plan.options.phase.rawValue))")
        lines.append(header)
        if plan.actions.isEmpty {
            lines.append("No changes: everything is as the config and the certificates want it.")
        } else {
            var counts: [ActionKind: Int] = [:]
            for action in plan.actions { counts[action.kind, default: 0] += 1 }
            let summary = ActionKind.allCases.compactMap { kind in counts[kind].map { "\(kind.rawValue) \($0)" } }
            lines.append("\(plan.actions.count) action(s): " + summary.joined(separator: ", "))
            var subjects: [String] = []
            var bySubject: [String: [Action]] = [:]
            for action in plan.actions {
                let subject = action.subject
                if bySubject[subject] == nil { subjects.append(subject) }
                bySubject[subject, default: []].append(action)
            }
            for subject in subjects {
                guard let group = bySubject[subject] else { continue }
                lines.append("")
                var lastReason: String?
                lines.append(subject)
                for action in group {
                    let reason = "\(action.reason.code): \(action.reason.message)"
                    if reason != lastReason {
                        lines.append("  # " + reason)
                        lastReason = reason
                    }
                    let params = action.params.keys.sorted().compactMap { key in
                        action.params[key].map { "\(key)=\($0.text)" }
                    }
                    let kind = action.kind.rawValue.padding(toLength: kindWidth, withPad: " ", startingAt: 0)
                    lines.append(
                        "  + \(kind)\(action.id)" + (params.isEmpty ? "" : "  " + params.joined(separator: " ")))
                }
            }
        }
        let notes = plan.notes.filter { verbose || $0.reason.code != ReasonCode.notDue.rawValue }
        if !notes.isEmpty {
            lines.append("")
            lines.append("Notes")
            for note in notes {
                lines.append("  \(note.subject): \(note.reason.code): \(note.reason.message)")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The kind column: the longest kind name and two spaces, so that no kind runs into its id.
    static let kindWidth = (ActionKind.allCases.map(\.rawValue.count).max() ?? 18) + 2
}
