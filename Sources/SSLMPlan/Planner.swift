import Foundation
import SSLMConfig
import SSLMCore

/// What to plan: the configuration, the observed state, the time and the options.
public struct PlanningRequest: Sendable {
    public var config: Config
    public var observation: Observation
    public var now: Date
    /// The services to act on, in order; nil = every service of the active groups.
    public var targets: [ServiceAddress]?
    /// The targets as the user wrote them (recorded in the plan).
    public var targetSpecs: [String]
    public var phase: Phase
    public var force: Bool
    public var reuseKey: Bool
    /// Overrides `[globals] min_roll_mins`.
    public var minRollMinutes: Int?
    /// Overrides `[globals] clean_keep` (ssl-mgr `-clean-keep N`; at least 1).
    public var cleanKeep: Int?
    /// Clean every observed configured service, not only the targets (ssl-mgr `-clean-all`).
    public var cleanAll = false
    /// Copy every target to production (and on to the servers) even when nothing differs (ssl-mgr `dev -certs-prod`).
    public var forceProductionSync = false
    /// Restart every server section with a restart command, and refresh DNS (ssl-mgr `dev -fsr`).
    public var forceRestarts = false
    /// Refresh DNS for the targets' apexes even when no TLSA changed (ssl-mgr `-dns`).
    public var forceDNSRefresh = false
    /// Issue from the ACME CAs' staging directories (`--test`, ssl-mgr `-t`).
    public var acmeStaging = false
    /// Replace the targets' certificates now (`sslm apply --replace`, ssl-mgr `-renew -roll -f`): a new next
    /// (replacing a pending one), rolled to curr in the same run without waiting for `min_roll_mins` or
    /// for TLSA publication; production and restarts follow. Bypasses the backoff after failed orders.
    public var replaceNow = false
    /// Retire the services that left the config (`sslm apply --retire`; also `retire_orphans = true`):
    /// production copy removed, TLSA records withdrawn, the certs directory archived. Without it (and the
    /// switch) they are notes.
    public var retire = false
    /// With `retire`: revoke each retired curr at the ACME CA that issued it first (`--retire --revoke`).
    public var revokeRetired = false
    public var toolVersion: String

    public init(
        config: Config, observation: Observation, now: Date, targets: [ServiceAddress]? = nil,
        targetSpecs: [String] = [], phase: Phase = .all, force: Bool = false, reuseKey: Bool = false,
        minRollMinutes: Int? = nil, toolVersion: String = SSLMVersion.current
    ) {
        self.config = config
        self.observation = observation
        self.now = now
        self.targets = targets
        self.targetSpecs = targetSpecs
        self.phase = phase
        self.force = force
        self.reuseKey = reuseKey
        self.minRollMinutes = minRollMinutes
        self.toolVersion = toolVersion
    }
}

/// The pure planner: (config, observation, now, options) → plan. It never touches the file system, the
/// network, the clock or the environment; the same request always gives the same plan.
public enum Planner {
    /// Decides (`RunDecisions`), emits (`PlanEmitter`), then checks and orders the actions (`ActionGraph`).
    /// An unknown dependency or a cycle is a planner bug: it stops here, naming the actions, instead of
    /// reaching `sslm apply` in some order.
    public static func plan(_ request: PlanningRequest) -> Plan {
        let context = PlanningContext(request: request)
        let (actions, notes) = PlanEmitter.emit(RunDecisions.decide(context))
        let graph: ActionGraph
        do {
            graph = try ActionGraph(actions)
        } catch {
            preconditionFailure(String(describing: error))
        }
        return Plan(
            toolVersion: request.toolVersion, now: Timestamps.rfc3339(request.now),
            configDigest: request.config.digest,
            base: .init(
                lineage: request.observation.lineage, fingerprint: request.observation.fingerprint,
                parts: request.observation.parts),
            options: options(request, minRollMinutes: context.minRollMinutes),
            actions: ActionOrdering.batched(graph), notes: notes)
    }

    /// The options recorded in the plan.
    static func options(_ request: PlanningRequest, minRollMinutes: Int) -> Plan.Options {
        var options = Plan.Options(
            targets: request.targetSpecs, phase: request.phase, force: request.force, reuseKey: request.reuseKey,
            minRollMinutes: minRollMinutes)
        var extras: [String] = []
        if let keep = request.cleanKeep { extras.append("clean-keep=\(max(1, keep))") }
        if request.cleanAll { extras.append("clean-all") }
        if request.forceProductionSync { extras.append("certs-to-prod") }
        if request.forceRestarts { extras.append("force-server-restarts") }
        if request.forceDNSRefresh { extras.append("dns-refresh") }
        if request.acmeStaging { extras.append("test") }
        if request.replaceNow { extras.append("replace") }
        if request.retire { extras.append("retire") }
        if request.revokeRetired { extras.append("revoke") }
        options.extras = extras.isEmpty ? nil : extras
        return options
    }
}
