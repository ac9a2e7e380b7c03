import ArgumentParser
import Foundation
import SSLMCore
import SSLMPlan

/// `sslm plan`: observe, plan, print. Changes nothing.
struct PlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Show what apply would change, with a reason for every action. Changes nothing.",
        discussion: """
            Reads the config and the state of certs/, the production directory and the TLSA files, and \
            prints the actions `sslm apply` would take, each with its reason, then notes (waiting to roll, \
            next renewal, blocked work).

            -o FILE saves the plan as JSON for `sslm apply FILE` (refused later if the state changed) or for \
            review; --json prints the JSON. Exit status: 0 success; with --detailed-exitcode 0 = nothing to \
            do, 2 = changes present, a service blocked (needs a person) or a DANE roll stuck; 1 = error.
            """)
    @OptionGroup var global: GlobalOptions
    @OptionGroup var planning: PlanningOptions
    @Option(name: .shortAndLong, help: ArgumentHelp("Also write the plan (JSON) to this file.", valueName: "file"))
    var output: String?
    @Flag(help: "Print the plan as JSON instead of text.") var json = false
    @Flag(
        name: .customLong("detailed-exitcode"),
        help: "Exit 2 when the plan has changes or a service is blocked, 0 when it has neither.")
    var detailedExitcode = false

    func run() async throws {
        let session = await
            (try PlanSession.open(
                global: global, targetArguments: planning.targets, now: planning.now,
                test: planning.test)).withRenewalInfo(verbose: global.verbose)
        let plan = try session.plan(planning)
        // Freed by the OS at exit rather than object by object on return (`ProcessLifetime`).
        ProcessLifetime.keepUntilExit((session.config, session.observation, plan))
        if let output {
            let data = PlanCodec.encode(plan)
            do {
                try data.write(to: URL(fileURLWithPath: output), options: .atomic)
            } catch {
                throw CLIError("cannot write the plan to \(output): \(error.localizedDescription)")
            }
        }
        if json {
            FileHandle.standardOutput.write(PlanCodec.encode(plan))
        } else {
            print(PlanView.render(plan, topdir: session.topdir, verbose: global.verbose), terminator: "")
        }
        if detailedExitcode && (!plan.isEmpty || !plan.blockedNotes.isEmpty || !plan.stuckNotes.isEmpty) {
            throw ExitCode(2)
        }
    }
}

/// `sslm show FILE`: render a saved plan.
struct ShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Render a saved plan, or what two saved plans do differently (--diff).",
        discussion: """
            sslm show FILE renders a plan written by `sslm plan -o FILE`.

            sslm show --diff OLD NEW compares two saved plans by what they would do: actions added, removed,
            or changed (same id, another kind, service, parameter or dependency), per service. Reason
            sentences, times, fingerprints and notes are not compared. Exit status: 0 when both plans would do
            the same, 2 when they differ, 1 when a file cannot be read. For CI: examples/ci/ and Docs/ci.md.
            """)
    @Option(help: ArgumentHelp("Compare this older plan with FILE.", valueName: "old-file")) var diff: String?
    @Argument(help: "A plan file written by `sslm plan -o FILE` (with --diff: the newer plan).") var file: String
    @Flag(help: "Print the plan (or the differences) as JSON.") var json = false

    func run() async throws {
        let plan = try SavedPlanFile.read(file)
        if let diff {
            let differences = PlanDiff(old: try SavedPlanFile.read(diff), new: plan)
            if json {
                FileHandle.standardOutput.write(PlanDiffView.json(differences, old: diff, new: file))
            } else {
                print(PlanDiffView.text(differences, old: diff, new: file, actions: plan.actions.count), terminator: "")
            }
            if !differences.isEmpty { throw ExitCode(2) }
            return
        }
        if json {
            FileHandle.standardOutput.write(PlanCodec.encode(plan))
        } else {
            print(PlanView.render(plan, topdir: nil), terminator: "")
        }
    }
}

/// The two renderings of a `PlanDiff`: text for people, JSON (sorted keys) for CI.
enum PlanDiffView {
    static func text(_ diff: PlanDiff, old: String, new: String, actions: Int) -> String {
        guard !diff.isEmpty else {
            return "No differences: \(old) and \(new) would do the same (\(actions) action(s)).\n"
        }
        let counts = [PlanDiff.Entry.Change.added, .removed, .changed].map { change in
            "\(diff.entries.filter { $0.change == change }.count) \(change.rawValue)"
        }
        var lines = ["Differences from \(old) to \(new): " + counts.joined(separator: ", ") + "."]
        for (subject, entries) in diff.bySubject {
            lines.append("")
            lines.append(subject)
            for entry in entries {
                let mark = entry.change == .added ? "+" : entry.change == .removed ? "-" : "~"
                if entry.change == .changed {
                    lines.append("  \(mark) \(entry.id) (\(entry.kind))")
                    lines += entry.details.map { "      " + $0 }
                } else {
                    lines.append("  \(mark) \(entry.id) (\(entry.kind)): \(entry.details.joined(separator: "; "))")
                }
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func json(_ diff: PlanDiff, old: String, new: String) -> Data {
        let subjects: [[String: Any]] = diff.bySubject.map { subject, entries in
            [
                "subject": subject,
                "actions": entries.map { entry in
                    ["change": entry.change.rawValue, "id": entry.id, "kind": entry.kind, "details": entry.details]
                },
            ]
        }
        let object: [String: Any] = ["old": old, "new": new, "equal": diff.isEmpty, "subjects": subjects]
        let data =
            (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted])) ?? Data()
        return data + Data("\n".utf8)
    }
}

/// A plan file written by `sslm plan -o FILE`, read with a size limit (`BoundedFile.Limit.plan`).
enum SavedPlanFile {
    static func read(_ file: String) throws -> Plan {
        do {
            return try PlanCodec.decode(Data(try BoundedFile.read(file, limit: .plan)), file: file)
        } catch let error as SSLMError {
            throw CLIError(error.message)
        }
    }
}
