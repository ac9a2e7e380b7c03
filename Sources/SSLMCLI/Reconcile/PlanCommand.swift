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
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Render a saved plan.")
    @Argument(help: "A plan file written by `sslm plan -o FILE`.") var file: String
    @Flag(help: "Print the plan as JSON.") var json = false

    func run() async throws {
        let plan = try SavedPlanFile.read(file)
        if json {
            FileHandle.standardOutput.write(PlanCodec.encode(plan))
        } else {
            print(PlanView.render(plan, topdir: nil), terminator: "")
        }
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
