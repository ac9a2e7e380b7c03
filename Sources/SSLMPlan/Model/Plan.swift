import Foundation
import SSLMCore

/// A plan: the typed action graph `sslm apply` executes, with a reason for every action.
///
/// Guarantees: encodes to the same bytes for the same inputs (`PlanCodec`); never holds private key
/// material; records the state it was computed from (`base`), so a stale plan can be refused.
/// Reasons explain — the executor switches on `Action.kind` only.
public struct Plan: Sendable, Hashable, Codable {
    public static let currentFormatVersion = "2.0"

    /// `major.minor`: minor versions only add fields.
    public var formatVersion: String
    public var toolVersion: String
    /// The time the plan was made for (RFC 3339, UTC).
    public var now: String
    public var configDigest: String
    public var base: Base
    public var options: Options
    public var actions: [Action]
    /// Per-service information that is not an action: waiting to roll, next renewal, skipped work.
    public var notes: [Note]

    enum CodingKeys: String, CodingKey {
        case formatVersion = "format_version", toolVersion = "tool_version", now, configDigest = "config_digest"
        case base, options, actions, notes
    }

    /// The state a plan was computed from.
    public struct Base: Sendable, Hashable, Codable {
        public var lineage: String?
        public var fingerprint: String
        /// Digests of the observed parts (`service:g/s`, `apex:…`, `run`), so `apply FILE` can say what
        /// changed. Added in 1.0; optional when reading.
        public var parts: [String: String]?

        public init(lineage: String?, fingerprint: String, parts: [String: String]? = nil) {
            self.lineage = lineage
            self.fingerprint = fingerprint
            self.parts = parts
        }

        /// What differs between this base and a newer observation's parts, as subjects
        /// (`example.com/mail-ec`, `tlsa of example.com`, `other state`).
        public func changedParts(comparedWith current: [String: String]) -> [String] {
            guard let parts else { return [] }
            let keys = Set(parts.keys).union(current.keys).sorted()
            return keys.filter { parts[$0] != current[$0] }.map { key in
                if key.hasPrefix("service:") { return String(key.dropFirst(8)) }
                if key.hasPrefix("apex:") { return "TLSA of " + key.dropFirst(5) }
                return "other state (production root, lineage, DNS facts)"
            }
        }
    }

    /// The options that shaped the plan, recorded so `apply FILE` and reviewers see them.
    public struct Options: Sendable, Hashable, Codable {
        public var targets: [String]
        public var phase: Phase
        public var force: Bool
        public var reuseKey: Bool
        public var minRollMinutes: Int
        /// Further options, mostly from the ssl-mgr command line (`clean-keep=N`, `clean-all`,
        /// `certs-to-prod`, `force-server-restarts`, `dns-refresh`); omitted when none.
        public var extras: [String]?

        enum CodingKeys: String, CodingKey {
            case targets, phase, force, reuseKey = "reuse_key", minRollMinutes = "min_roll_mins", extras
        }

        public init(targets: [String], phase: Phase, force: Bool, reuseKey: Bool, minRollMinutes: Int) {
            self.targets = targets
            self.phase = phase
            self.force = force
            self.reuseKey = reuseKey
            self.minRollMinutes = minRollMinutes
        }
    }

    public init(
        toolVersion: String, now: String, configDigest: String, base: Base, options: Options,
        actions: [Action], notes: [Note]
    ) {
        self.formatVersion = Self.currentFormatVersion
        self.toolVersion = toolVersion
        self.now = now
        self.configDigest = configDigest
        self.base = base
        self.options = options
        self.actions = actions
        self.notes = notes
    }

    public var isEmpty: Bool { actions.isEmpty }

    public func action(_ id: String) -> Action? { actions.first { $0.id == id } }

    /// The notes of services that cannot proceed until a person fixes something (`ReasonCode.blocked`):
    /// a run that leaves any is not a success.
    public var blockedNotes: [Note] { notes.filter { $0.reason.code == ReasonCode.blocked.rawValue } }
    /// Notes of DANE rolls that have waited longer than `dane_roll_stuck_hours` (`roll_stuck`).
    public var stuckNotes: [Note] { notes.filter { $0.reason.code == ReasonCode.rollStuck.rawValue } }
}

/// Which work a run plans.
public enum Phase: String, Sendable, Hashable, Codable, CaseIterable {
    /// Build new `next` certificates that are due; no roll (ssl-mgr `-renew`).
    case renew
    /// Promote `next` to `curr` when it is old enough (ssl-mgr `-roll`).
    case roll
    /// Both, and everything that follows (production, servers, TLSA, DNS, clean).
    case all
}

/// One step of a plan: an id (`ActionID`'s grammar), what it does (`payload`), why, and what it waits for.
///
/// Encodes as `id`, `kind`, `service`, `params`, `reason`, `depends_on`; decoding reads `kind` and `params`
/// back into the typed payload and refuses unknown, missing or mistyped parameters.
public struct Action: Sendable, Hashable, Codable {
    /// Stable id, e.g. `example.com/mail-ec/next/key` (see `ActionID`).
    public var id: String
    /// `group/service` for service actions; nil for actions of an apex or of the whole run.
    public var service: String?
    public var payload: ActionPayload
    public var reason: Reason
    public var dependsOn: [String]

    public var kind: ActionKind { payload.kind }
    /// The parameters as the JSON form writes them (for views; handlers read `payload`).
    public var params: [String: PlanValue] { payload.params }

    enum CodingKeys: String, CodingKey {
        case id, kind, service, params, reason, dependsOn = "depends_on"
    }

    public init(id: String, service: String? = nil, payload: ActionPayload, reason: Reason, dependsOn: [String] = []) {
        self.id = id
        self.service = service
        self.payload = payload
        self.reason = reason
        self.dependsOn = dependsOn
    }

    public init(
        _ id: ActionID, service: ServiceAddress? = nil, payload: ActionPayload, reason: Reason,
        dependsOn: [String] = []
    ) {
        self.init(
            id: id.description, service: service?.description, payload: payload, reason: reason,
            dependsOn: dependsOn)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        service = try container.decodeIfPresent(String.self, forKey: .service)
        reason = try container.decode(Reason.self, forKey: .reason)
        dependsOn = try container.decode([String].self, forKey: .dependsOn)
        let kind = try container.decode(ActionKind.self, forKey: .kind)
        let params = try container.decode([String: PlanValue].self, forKey: .params)
        func refuse(_ message: String) -> DecodingError {
            .dataCorrupted(.init(codingPath: container.codingPath, debugDescription: message))
        }
        do {
            payload = try ActionPayload(kind: kind, params: params, id: id)
        } catch {
            throw refuse(error.description)
        }
        let printable = SafeName.printable(id)
        if payload.isServiceAction {
            guard let service, ServiceAddress(planText: service) != nil, ActionID(id)?.service?.description == service
            else {
                throw refuse("action \(printable) (\(kind.rawValue)): service must be the group/service of its id")
            }
        } else if service != nil {
            throw refuse("action \(printable) (\(kind.rawValue)): names a service, but acts on an apex or the run")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(kind, forKey: .kind)
        try container.encodeIfPresent(service, forKey: .service)
        try container.encode(params, forKey: .params)
        try container.encode(reason, forKey: .reason)
        try container.encode(dependsOn, forKey: .dependsOn)
    }
}

/// The closed set of action kinds (Docs/plan-format.md). Add a kind; never reuse a name with a new meaning.
public enum ActionKind: String, Sendable, Hashable, Codable, CaseIterable {
    case createNext = "create_next"
    case generateKey = "generate_key"
    case reuseKey = "reuse_key"
    case createCSR = "create_csr"
    case signLocal = "sign_local"
    case acmeOrder = "acme_order"
    case publishChallenges = "publish_challenges"
    case refreshDNS = "refresh_dns"
    case awaitPropagation = "await_propagation"
    case answerChallenges = "answer_challenges"
    case finalizeOrder = "finalize_order"
    case writeBundle = "write_bundle"
    /// Rebuilds damaged derived files (`chain.pem`, `fullchain.pem`, `bundle.pem`) of an existing set
    /// from its key, certificate and issuer, and gives its key files mode 0600.
    case repairSet = "repair_set"
    /// A service's `next/tlsa.rr`.
    case writeTLSA = "write_tlsa"
    /// An apex's `certs/<apex>/tlsa.<apex>` (format 2; `write_tlsa` with an apex id in format 1).
    case writeApexTLSA = "write_apex_tlsa"
    case publishTLSA = "publish_tlsa"
    case roll
    /// A service's production `curr/` and `next/`.
    case syncProduction = "sync_production"
    /// An apex's production `tlsa.<apex>` (format 2; `sync_production` with an apex id in format 1).
    case syncApexTLSA = "sync_apex_tlsa"
    case copyToServer = "copy_to_server"
    case postCopy = "post_copy"
    case restartServer = "restart_server"
    case clean
    /// A service that left the config: production copy removed, the certs directory archived under
    /// `certs/.retired/` (never deleted), curr revoked first when asked (`sslm apply --retire --revoke`).
    case retireService = "retire_service"
}

/// Why an action (or a note) is there: a stable code and a sentence for people.
public struct Reason: Sendable, Hashable, Codable {
    public var code: String
    public var message: String

    public init(_ code: ReasonCode, _ message: String) {
        self.code = code.rawValue
        self.message = message
    }
}

/// Reason codes: one per named check of the planner.
public enum ReasonCode: String, Sendable, Hashable, CaseIterable {
    case certificateMissing = "certificate_missing"
    case currentIncomplete = "current_incomplete"
    case keyMismatch = "key_mismatch"
    /// curr's files that can be rebuilt from the others are damaged or missing, or its key files have a
    /// mode other than 0600: a `repair_set`.
    case currentDamaged = "current_damaged"
    /// curr's certificate is not issued by its chain (or, without a usable chain, by the local CA), or its
    /// chain is damaged and cannot be rebuilt (ACME): a new certificate replaces it.
    case currentUnverified = "current_unverified"
    case configChanged = "config_changed"
    /// curr's certificate was issued by another CA than the one `signing_ca` names now (or, for a local CA,
    /// the CA has a new certificate).
    case issuerChanged = "issuer_changed"
    /// curr's certificate was revoked with `sslm revoke`: a new one replaces it, and rolls, in this run.
    case certificateRevoked = "certificate_revoked"
    case renewalDue = "renewal_due"
    case forced
    case nextIncomplete = "next_incomplete"
    case nextBroken = "next_broken"
    case nextStale = "next_stale"
    case nextReady = "next_ready"
    case firstCertificate = "first_certificate"
    case tlsaChanged = "tlsa_changed"
    case tlsaDrift = "tlsa_drift"
    case tlsaCopyDrift = "tlsa_copy_drift"
    case productionChanged = "production_changed"
    case productionDrift = "production_drift"
    case serversChanged = "servers_changed"
    case dnsChanged = "dns_changed"
    case oldDirectories = "old_directories"
    case waitingToRoll = "waiting_to_roll"
    /// A DANE service's next waits until its TLSA records are served by every name server long enough.
    case waitingForTLSA = "waiting_for_tlsa"
    /// The published TLSA copies keep an old key's records: a DANE endpoint still presents that key.
    case tlsaHeld = "tlsa_held"
    /// A DANE roll that has waited longer than `dane_roll_stuck_hours` for its TLSA records.
    case rollStuck = "roll_stuck"
    /// A DANE roll that goes ahead without its TLSA records because curr expires within
    /// `dane_roll_deadline_days` (a warning).
    case rollDeadline = "roll_deadline"
    case notDue = "not_due"
    /// The service's last ACME orders failed: the next one waits (1 h doubling to 32 h).
    case orderBackoff = "order_backoff"
    case blocked
    case unconfigured
    case dnsFactsUnavailable = "dns_facts_unavailable"
    case phaseSkipped = "phase_skipped"
    /// A deployment step (copy, restart, DNS refresh) whose last attempt did not succeed.
    case retry
    /// ACME challenge publication, DNS propagation and its cleanup.
    case acmeChallenge = "acme_challenge"
    /// A local CA's private key found in production (ssl-mgr copied it there): a warning, not an action.
    case caKeyInProduction = "ca_key_in_production"
    /// A `certs/` directory (a service or a whole group) that left the config: a note, or with `--retire`
    /// (`retire_orphans`) its retirement and the withdrawal of its TLSA records.
    case orphaned
}

/// A note about a service or apex that is not an action.
public struct Note: Sendable, Hashable, Codable {
    /// `group/service`, or an apex, or `run`.
    public var subject: String
    public var reason: Reason

    public init(subject: String, reason: Reason) {
        self.subject = subject
        self.reason = reason
    }
}

/// A parameter value. `unknown` marks a value only known after apply (never invented).
public enum PlanValue: Sendable, Hashable, Codable {
    case string(String)
    case int(Int)
    case bool(Bool)
    case strings([String])
    /// Known after apply; the associated text says what it will be.
    case unknown(String)

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let value = try? container.decode(Bool.self) { self = .bool(value); return }
        if let value = try? container.decode(Int.self) { self = .int(value); return }
        if let value = try? container.decode(String.self) { self = .string(value); return }
        if let value = try? container.decode([String].self) { self = .strings(value); return }
        if let value = try? container.decode([String: String].self), let what = value["known_after_apply"] {
            self = .unknown(what)
            return
        }
        throw DecodingError.dataCorruptedError(in: container, debugDescription: "unsupported plan parameter value")
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let value): try container.encode(value)
        case .int(let value): try container.encode(value)
        case .bool(let value): try container.encode(value)
        case .strings(let value): try container.encode(value)
        case .unknown(let what): try container.encode(["known_after_apply": what])
        }
    }

    /// Human form: the value, or `(known after apply: …)`.
    public var text: String {
        switch self {
        case .string(let value): value
        case .int(let value): String(value)
        case .bool(let value): String(value)
        case .strings(let value): value.joined(separator: ", ")
        case .unknown(let what): "(known after apply: \(what))"
        }
    }
}
