import SSLMCore

/// The check behind `sslm apply FILE`: a saved plan is only an assertion about what sslm would do. The
/// CLI plans again from the config and the state it observes under the lock, with the saved options, and
/// executes that recomputed plan only when its actions equal the saved ones; otherwise it refuses.
///
/// Compared per action, in order: `id`, `kind`, `service`, every parameter, `depends_on` and the reason's
/// code. Reason sentences are not compared (they explain, and some count down with the clock), nor notes.
/// Nothing of the saved file reaches the executor, so a value edited into the file can never become a
/// command, a host, a path or an argument.
public enum PlanReplay {
    /// The options a saved plan was made with, as a planning request's fields; throws
    /// `SSLMError(.malformedInput)` for an option this sslm does not know (`options.extras`).
    public static func requestFields(_ options: Plan.Options) throws -> ReplayOptions {
        var fields = ReplayOptions(
            phase: options.phase, force: options.force, reuseKey: options.reuseKey,
            minRollMinutes: options.minRollMinutes)
        for extra in options.extras ?? [] {
            switch extra {
            case "clean-all": fields.cleanAll = true
            case "certs-to-prod": fields.forceProductionSync = true
            case "force-server-restarts": fields.forceRestarts = true
            case "dns-refresh": fields.forceDNSRefresh = true
            case "test": fields.test = true
            case "replace": fields.replaceNow = true
            case "retire": fields.retire = true
            case "revoke": fields.revokeRetired = true
            default:
                if extra.hasPrefix("clean-keep="), let keep = Int(extra.dropFirst("clean-keep=".count)), keep >= 1 {
                    fields.cleanKeep = keep
                } else {
                    throw SSLMError(
                        .malformedInput, "options.extras: \"\(SafeName.printable(extra))\" is not an option of sslm")
                }
            }
        }
        return fields
    }

    /// The first difference between the saved actions and the recomputed ones, as a sentence; nil when
    /// they are equal.
    public static func firstDifference(saved: [Action], recomputed: [Action]) -> String? {
        for (index, (mine, theirs)) in zip(saved, recomputed).enumerated() {
            let position = "action \(index + 1)"
            if mine.id != theirs.id || mine.kind != theirs.kind {
                return "\(position) is \(describe(mine)) in the file, sslm plans \(describe(theirs))"
            }
            if mine.service != theirs.service {
                return "\(position) (\(theirs.id)) names service \(quoted(mine.service)) in the file, sslm plans "
                    + quoted(theirs.service)
            }
            if mine.payload != theirs.payload {
                let names = Set(mine.params.keys).union(theirs.params.keys).sorted()
                let name = names.first { mine.params[$0] != theirs.params[$0] } ?? "?"
                return
                    "\(position) (\(theirs.id)): parameter \(name) is \(quoted(mine.params[name]?.text)) in the file, "
                    + "sslm computes \(quoted(theirs.params[name]?.text))"
            }
            if mine.dependsOn != theirs.dependsOn {
                return "\(position) (\(theirs.id)) depends on [\(list(mine.dependsOn))] in the file, sslm plans "
                    + "[\(list(theirs.dependsOn))]"
            }
            if mine.reason.code != theirs.reason.code {
                return "\(position) (\(theirs.id)): reason \(quoted(mine.reason.code)) in the file, sslm finds "
                    + quoted(theirs.reason.code)
            }
        }
        if saved.count > recomputed.count {
            return "the file has \(saved.count) actions, sslm plans \(recomputed.count): "
                + "\(describe(saved[recomputed.count])) is not planned"
        }
        if recomputed.count > saved.count {
            return "the file has \(saved.count) actions, sslm plans \(recomputed.count): "
                + "\(describe(recomputed[saved.count])) is missing from the file"
        }
        return nil
    }

    private static func describe(_ action: Action) -> String {
        "\(action.kind.rawValue) \(SafeName.printable(action.id))"
    }

    private static func quoted(_ text: String?) -> String {
        text.map { "\"\(SafeName.printable($0))\"" } ?? "none"
    }

    private static func list(_ ids: [String]) -> String {
        ids.map(SafeName.printable).joined(separator: ", ")
    }
}

/// The planning options recorded in a saved plan (`Plan.Options`), decoded for a new planning request.
public struct ReplayOptions: Sendable, Equatable {
    public var phase: Phase
    public var force: Bool
    public var reuseKey: Bool
    public var minRollMinutes: Int
    public var cleanKeep: Int?
    public var cleanAll = false
    public var forceProductionSync = false
    public var forceRestarts = false
    public var forceDNSRefresh = false
    /// `--replace`: replace the targets' certificates now.
    public var replaceNow = false
    /// `--retire`: retire the services that left the config.
    public var retire = false
    /// `--revoke` (with `--retire`): revoke their curr certificates at the ACME CA first.
    public var revokeRetired = false
    /// `--test`: ACME staging and the separate state in `<topdir>/test`.
    public var test = false
}
