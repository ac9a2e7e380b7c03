import ArgumentParser
import SSLMCore

/// Options that change what is planned; shared by `plan` and `apply`.
struct PlanningOptions: ParsableArguments {
    @Argument(help: ArgumentHelp(
        "Targets in ssl-mgr's syntax: group:svc1,svc2 or group:ALL (default: every active group).",
        valueName: "group:services"))
    var targets: [String] = []

    @Option(help: "Which work to plan: renew (new next certificates), roll (next becomes curr), or all.")
    var phase: String = "all"

    @Flag(help: "Renew (or roll) even when not due.")
    var force = false

    @Flag(name: .customLong("reuse-key"), help: "Renew with the current private key (TLSA 3 1 1 records stay valid).")
    var reuseKey = false

    @Flag(help: "Use the ACME CA's staging directory, a separate account and production directory.")
    var test = false

    @Option(name: .customLong("min-roll-mins"), help: "Minimum age of next, in minutes, before a roll (default: min_roll_mins).")
    var minRollMinutes: Int?

    @Option(help: ArgumentHelp("For tests and simulations: plan as if it were this time (RFC 3339). Also SSLM_NOW.",
                               valueName: "time"))
    var now: String?
}

/// Reports a command whose issue has not landed yet.
private func notImplemented(_ command: String) -> CLIError {
    CLIError("sslm \(command): not implemented yet")
}

struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Live checks: served certificates against published TLSA records and against curr.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Targets: group:svc1,svc2 or group:ALL.") var targets: [String] = []
    @Flag(help: "Print JSON.") var json = false
    func run() async throws { throw notImplemented("check") }
}

struct RevokeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revoke", abstract: "Revoke a service's certificate at its ACME CA.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "group:service") var target: String
    @Option(help: "RFC 5280 reason: unspecified, keyCompromise, superseded, cessationOfOperation.")
    var reason: String = "unspecified"
    func run() async throws { throw notImplemented("revoke") }
}
