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
    public static func plan(_ request: PlanningRequest) -> Plan {
        var builder = PlanBuilder(request: request)
        builder.run()
        var options = Plan.Options(
            targets: request.targetSpecs, phase: request.phase, force: request.force, reuseKey: request.reuseKey,
            minRollMinutes: builder.minRollMinutes)
        var extras: [String] = []
        if let keep = request.cleanKeep { extras.append("clean-keep=\(max(1, keep))") }
        if request.cleanAll { extras.append("clean-all") }
        if request.forceProductionSync { extras.append("certs-to-prod") }
        if request.forceRestarts { extras.append("force-server-restarts") }
        if request.forceDNSRefresh { extras.append("dns-refresh") }
        if request.acmeStaging { extras.append("test") }
        options.extras = extras.isEmpty ? nil : extras
        return Plan(
            toolVersion: request.toolVersion, now: Timestamps.rfc3339(request.now),
            configDigest: request.config.digest,
            base: .init(
                lineage: request.observation.lineage, fingerprint: request.observation.fingerprint,
                parts: request.observation.parts),
            options: options, actions: ActionOrdering.batched(builder.actions), notes: builder.notes)
    }
}

/// The state of one planning run.
struct PlanBuilder {
    let request: PlanningRequest
    var config: Config { request.config }
    var observation: Observation { request.observation }
    let minRollMinutes: Int

    var actions: [Action] = []
    var notes: [Note] = []

    /// Per service, what this run does to it.
    var outcomes: [ServiceAddress: ServiceOutcome] = [:]
    /// ACME issuances of this run, in service order (their apex actions are added after every service).
    var acmeIssues: [ACMEIssue] = []
    /// Local CA name → id of its `roll` action in this run.
    private var caRolls: [String: String] = [:]

    struct ServiceOutcome {
        var lastBuildId: String?
        var rollId: String?
        var builtNext = false
        var nextAfterRun = false
        var currAfterRun = false
        var currChanges: Bool { rollId != nil }
        var prodSyncId: String?
        /// The `repair_set` of curr, when planned.
        var currRepairId: String?
        /// Whether that repair rebuilds files (not only modes): production then takes the repaired set.
        var currRebuilt = false
    }

    init(request: PlanningRequest) {
        self.request = request
        // Clamped: the config and the command line validate the range; a request built in code may not.
        let range = ConfigLimits.minRollMinutes
        self.minRollMinutes = min(
            max(
                request.minRollMinutes ?? request.config.globals.minRollMinutes,
                range.lowerBound), range.upperBound)
    }

    mutating func run() {
        let services = orderedServices()
        for address in services {
            guard let service = config.service(address) else {
                notes.append(
                    Note(
                        subject: address.description,
                        reason: Reason(.unconfigured, "\(address) has no service file; nothing planned")))
                continue
            }
            planService(service)
        }
        for address in observation.unconfigured {
            notes.append(
                Note(
                    subject: address.description,
                    reason: Reason(
                        .unconfigured,
                        "certs/\(address.group)/\(address.service) is not in the config: left alone (its production copy too)"
                    )))
        }
        let apexes = orderedUnique(services.map(\.group)).filter { $0.lowercased() != GroupConfig.caGroup }
        var tlsaApexes: [String] = []
        var publishIds: [String] = []
        for apex in apexes {
            if let ids = planTLSA(apex: apex, services: services.filter { $0.group == apex }) {
                tlsaApexes.append(apex)
                publishIds.append(contentsOf: ids)
            }
        }
        planACMEChallenges()
        planServersAndDNS(services: services, tlsaApexes: tlsaApexes, tlsaIds: publishIds)
        let cleanScope =
            request.cleanAll
            ? observation.services.map(\.address).filter { config.service($0) != nil }
            : services.filter { config.service($0) != nil }
        for address in cleanScope { planClean(address) }
    }

    // MARK: order

    /// Targets (or active services), local CAs before the services they sign.
    private func orderedServices() -> [ServiceAddress] {
        let base = orderedUnique(request.targets ?? config.activeServices)
        func depth(_ address: ServiceAddress, _ seen: Set<ServiceAddress>) -> Int {
            guard let service = config.service(address), case .authority(let name) = service.signer,
                let ca = config.certificateAuthorities[name], ca.isLocal, !seen.contains(ca.localAddress)
            else { return 0 }
            return 1 + depth(ca.localAddress, seen.union([address]))
        }
        return base.enumerated().sorted { a, b in
            let (da, db) = (depth(a.element, []), depth(b.element, []))
            return da != db ? da < db : a.offset < b.offset
        }.map(\.element)
    }

    // MARK: one service

    private mutating func planService(_ service: ServiceConfig) {
        let address = service.address
        let id = address.description
        let state =
            observation.service(address)
            ?? ServiceState(
                address: address, exists: false, curr: .absent, next: .absent, prev: .absent, dbDirs: [],
                strayEntries: [])
        var outcome = ServiceOutcome()
        if state.curr == .notALink || state.next == .notALink || state.prev == .notALink {
            notes.append(
                Note(
                    subject: id,
                    reason: Reason(
                        .blocked,
                        "certs/\(address.group)/\(address.service): curr, next or prev is not a symbolic link; fix it by hand (nothing planned)"
                    )))
            outcomes[address] = outcome
            return
        }

        // The signer, for local CAs: its current subject and chain, and whether it rolls in this run.
        var signerSubject: String?
        var caFullchain: String?
        var caName: String?
        var caRollId: String?
        var signerBlocked: String?
        switch service.signer {
        case .selfSigned: break
        case .authority(let name):
            caName = name
            if let ca = config.certificateAuthorities[name] {
                if ca.isLocal {
                    let caState = observation.service(ca.localAddress)
                    let caCurr = caState.flatMap { $0.dbDir($0.curr) }
                    caRollId = caRolls[name]
                    if caRollId == nil {
                        signerSubject = caCurr?.certificate?.subject
                        caFullchain = caCurr?.files["fullchain.pem"]
                        if caCurr?.certificate == nil || caCurr?.key == nil {
                            signerBlocked =
                                "signing CA \"\(name)\" (ca/\(name)) has no usable current certificate"
                                + (outcomes[ca.localAddress] == nil ? " and is not part of this run" : " yet")
                        }
                    }
                }
            }
        }
        let currDir = state.dbDir(state.curr)

        // 1. curr
        var currProblem = ServiceChecks.certificateIsMissing(state)
        if currProblem == nil, let currDir { currProblem = ServiceChecks.currentSetIsBroken(currDir) }
        // A chain can be rebuilt for a self-signed certificate (it is the certificate) and for a local
        // CA's leaf from the CA's current fullchain.pem, when that CA issued it and does not roll now.
        let chainSource: String? = {
            switch service.signer {
            case .selfSigned: return "cert.pem itself (self-signed)"
            case .authority(let name):
                guard caRollId == nil, caFullchain != nil, let issuer = currDir?.certificate?.issuer,
                    issuer == signerSubject
                else { return nil }
                return "CA \"\(name)\"'s current fullchain.pem"
            }
        }()
        if currProblem == nil, let currDir {
            currProblem = ServiceChecks.currentSetIsUnverified(currDir, chainCanBeRebuilt: chainSource != nil)
        }
        if currProblem == nil, let currDir,
            let repair = ServiceChecks.setNeedsRepair(currDir, slot: "curr", chainSource: chainSource ?? "")
        {
            if request.phase == .roll {
                notes.append(
                    Note(subject: id, reason: Reason(.phaseSkipped, repair.reason.message + " (not in --phase roll)")))
            } else {
                outcome.currRepairId = planRepair(address, slot: .curr, repair: repair, depends: [])
                outcome.currRebuilt = !repair.rebuild.isEmpty
            }
        }
        var renewReason: Reason?
        var ariNote: String?
        var assessment: RenewalAssessment?
        if currProblem == nil, let currDir, let certificate = currDir.certificate {
            let current = RenewalAssessment(certificate: certificate, renewInfo: service.renewInfo, now: request.now)
            assessment = current
            renewReason = ServiceChecks.certificateDiffersFromConfig(
                certificate, service: service,
                signerSubject: signerSubject ?? (caRollId == nil ? nil : certificate.issuer),
                slot: "curr")
            if renewReason == nil, let caName {
                renewReason = ServiceChecks.issuerChanged(
                    currDir, caName: caName, caFullchainDigest: caFullchain,
                    caRollsNow: caRollId != nil)
            }
            if renewReason == nil {
                if let window = observation.renewalWindows?[id], window.serialHex == certificate.serialHex {
                    renewReason = ServiceChecks.renewalWindowIsOpen(window, now: request.now)
                    if renewReason == nil {
                        ariNote =
                            "curr expires \(PlanText.day(certificate.notAfter)); the CA's renewal window (ARI) is "
                            + "\(Timestamps.rfc3339(window.start)) – \(Timestamps.rfc3339(window.end)); due \(Timestamps.rfc3339(window.renewAt))"
                    }
                } else {
                    renewReason = ServiceChecks.renewalIsDue(current)
                }
            }
            if renewReason == nil, request.force, request.phase != .roll {
                renewReason = Reason(.forced, "--force: renewing although curr " + current.sentence)
            }
        }

        // 2. next
        let condition = ServiceChecks.nextCondition(
            state, service: service, signerSubject: signerSubject,
            caFullchainDigest: caFullchain, caRollsNow: caRollId != nil)
        var steps: [ServiceChecks.Step] = []
        var buildReason: Reason?
        var newDirectory = false
        switch condition {
        case .incomplete(let missing, let reason):
            if request.force && request.phase != .roll {
                steps = [.key, .csr, .cert, .bundle, .tlsa]
                newDirectory = true
                buildReason = Reason(.forced, "--force: replacing the incomplete next with a new one")
            } else {
                steps = missing
                buildReason = reason
            }
        case .replace(let reason):
            steps = [.key, .csr, .cert, .bundle, .tlsa]
            newDirectory = true
            buildReason = reason
        case .complete:
            if request.force && request.phase == .renew {
                steps = [.key, .csr, .cert, .bundle, .tlsa]
                newDirectory = true
                buildReason = Reason(.forced, "--force: replacing the pending next with a new one")
            }
        case .none:
            if let reason = currProblem ?? renewReason {
                steps = [.key, .csr, .cert, .bundle, .tlsa]
                newDirectory = true
                buildReason = reason
            }
        }
        if service.dane.isEmpty { steps.removeAll { $0 == .tlsa } }
        // next's key files with a mode other than 0600 (a damaged file of next is made again instead).
        var nextRepair: ServiceChecks.Repair?
        if !newDirectory, !steps.contains(.key), let nextDir = state.dbDir(state.next), nextDir.modeDrift != nil {
            nextRepair = ServiceChecks.setNeedsRepair(
                nextDir, slot: "next", chainSource: "", ignoring: Set(ServiceChecks.derivedFiles))
        }

        var buildPlanned = false
        if !steps.isEmpty, let reason = buildReason {
            if request.phase == .roll {
                notes.append(
                    Note(subject: id, reason: Reason(.phaseSkipped, reason.message + " (not in --phase roll)")))
            } else if let signerBlocked {
                notes.append(Note(subject: id, reason: Reason(.blocked, reason.message + "; but " + signerBlocked)))
            } else {
                planBuild(
                    service, state: state, steps: steps, newDirectory: newDirectory, reason: reason,
                    caRollId: caRollId, outcome: &outcome)
                buildPlanned = true
            }
        } else if let assessment, currProblem == nil {
            if case .complete = condition {
            } else if let ariNote {
                notes.append(Note(subject: id, reason: Reason(.notDue, ariNote)))
            } else {
                notes.append(
                    Note(
                        subject: id,
                        reason: Reason(
                            .notDue,
                            "curr " + assessment.sentence
                                + "; due \(Timestamps.rfc3339(assessment.renewAt))")))
            }
        }

        if let nextRepair, request.phase != .roll {
            let repairId = planRepair(
                address, slot: .next, repair: nextRepair,
                depends: outcome.lastBuildId.map { [$0] } ?? [])
            outcome.lastBuildId = repairId
        }

        // 3. roll
        let nextReady: Bool = {
            if buildPlanned { return true }
            if case .complete = condition { return true }
            return false
        }()
        outcome.nextAfterRun = nextReady || (state.next != .absent && !buildPlanned && condition != .none)
        outcome.currAfterRun = currProblem == nil
        if nextReady {
            if let rollReason = rollDecision(
                state: state, service: service, currProblem: currProblem,
                builtNow: buildPlanned)
            {
                let rollId = ActionID.service(address, .roll).description
                actions.append(
                    Action(
                        .service(address, .roll), service: address,
                        payload: .roll(next: newDirectory ? nil : state.next.dbName ?? ""),
                        reason: rollReason, dependsOn: outcome.lastBuildId.map { [$0] } ?? []))
                outcome.rollId = rollId
                outcome.nextAfterRun = false
                outcome.currAfterRun = true
                if address.group.lowercased() == GroupConfig.caGroup { caRolls[address.service] = rollId }
            }
        }

        // 4. production
        planProduction(service, state: state, outcome: &outcome)
        outcomes[address] = outcome
    }

    /// A `repair_set` of `slot` (`<g>/<s>/<slot>/repair`); returns its id.
    private mutating func planRepair(
        _ address: ServiceAddress, slot: CertificateSlot, repair: ServiceChecks.Repair, depends: [String]
    ) -> String {
        let repairId = ActionID.service(address, slot == .curr ? .currRepair : .nextRepair)
        actions.append(
            Action(
                repairId, service: address,
                payload: .repairSet(slot: slot, rebuild: repair.rebuild, modes: repair.modes),
                reason: repair.reason, dependsOn: depends))
        return repairId.description
    }

    /// Whether the pending (or just built) next becomes curr in this run, and why.
    private mutating func rollDecision(
        state: ServiceState, service: ServiceConfig, currProblem: Reason?,
        builtNow: Bool
    ) -> Reason? {
        let id = service.address.description
        if request.phase == .renew {
            notes.append(
                Note(subject: id, reason: Reason(.phaseSkipped, "next waits for the roll phase (--phase renew)")))
            return nil
        }
        if currProblem != nil {
            return Reason(.firstCertificate, "there is no usable curr to roll from: next becomes curr now")
        }
        if request.force && request.phase == .roll {
            return Reason(.forced, "--force: rolling next to curr without waiting for min_roll_mins")
        }
        let minimum = Double(minRollMinutes) * 60
        let dane = !service.dane.isEmpty
        let currKey = state.dbDir(state.curr)?.key?.spkiSHA256
        if builtNow {
            let reused = request.reuseKey && state.dbDir(state.curr)?.key?.spec == service.key
            if dane, reused,
                DANERollChecks.tlsaRecordsAreUnchanged(service: service, currSPKI: currKey, nextSPKI: currKey)
            {
                return Reason(
                    .nextReady,
                    "--reuse-key with selector 1: the TLSA records do not change, nothing to wait for: the new next becomes curr now"
                )
            }
            if minRollMinutes == 0 && !dane {
                return Reason(.nextReady, "min_roll_mins is 0: the new next becomes curr now")
            }
            let dnsRule =
                dane
                ? " and its TLSA records have been served by every name server of \(service.address.group) that long and for at least 2 × their TTL"
                : ""
            notes.append(
                Note(
                    subject: id,
                    reason: Reason(
                        .waitingToRoll,
                        "the new next rolls to curr when it is \(minRollMinutes) min old (min_roll_mins)\(dnsRule)")))
            return nil
        }
        guard let next = state.dbDir(state.next), let certificate = next.certificate else { return nil }
        if dane,
            DANERollChecks.tlsaRecordsAreUnchanged(service: service, currSPKI: currKey, nextSPKI: next.key?.spkiSHA256)
        {
            return Reason(
                .nextReady,
                "next (db/\(next.name)) keeps curr's key and every dane_tls entry uses selector 1: the TLSA records do not change, nothing to wait for: next becomes curr"
            )
        }
        let age = request.now.timeIntervalSince(certificate.notBefore)
        if age >= minimum {
            guard dane else {
                return Reason(
                    .nextReady,
                    "next (db/\(next.name)) is \(PlanText.minutes(max(0, age))) old (min_roll_mins \(minRollMinutes)): next becomes curr"
                )
            }
            let verdict = DANERollChecks.nextRecordsArePublished(
                apex: service.address.group, service: service.address.service, nextName: next.name,
                publication: observation.danePublication(service.address.group), now: request.now,
                minRollMinutes: minRollMinutes)
            if let waiting = verdict.waiting {
                notes.append(Note(subject: id, reason: waiting))
                return nil
            }
            return Reason(
                .nextReady,
                "next (db/\(next.name)) is \(PlanText.minutes(max(0, age))) old; "
                    + (verdict.ready ?? "next becomes curr"))
        }
        let at = certificate.notBefore.addingTimeInterval(minimum)
        notes.append(
            Note(
                subject: id,
                reason: Reason(
                    .waitingToRoll,
                    "next (db/\(next.name)) is \(PlanText.minutes(max(0, age))) old; rolls to curr at \(Timestamps.rfc3339(at)) (in \(PlanText.minutes(at.timeIntervalSince(request.now))))"
                )))
        return nil
    }

    /// The actions that build (or finish building) next.
    private mutating func planBuild(
        _ service: ServiceConfig, state: ServiceState, steps: [ServiceChecks.Step],
        newDirectory: Bool, reason: Reason, caRollId: String?,
        outcome: inout ServiceOutcome
    ) {
        let address = service.address
        var previous: String?
        func add(_ step: ActionID.ServiceStep, _ payload: ActionPayload, extra: [String] = []) {
            let actionId = ActionID.service(address, step)
            let depends = (previous.map { [$0] } ?? []) + extra
            actions.append(Action(actionId, service: address, payload: payload, reason: reason, dependsOn: depends))
            previous = actionId.description
        }
        if newDirectory {
            add(.nextDirectory, .createNext)
        }
        if steps.contains(.key) {
            let currKey = state.dbDir(state.curr)?.key
            if request.reuseKey, let currKey, currKey.spec == service.key {
                add(.nextKey, .reuseKey(service.key))
            } else {
                add(.nextKey, .generateKey(service.key))
            }
        }
        if steps.contains(.csr) {
            add(.nextRequest, .createCSR(sans: service.sans))
        }
        if steps.contains(.cert) {
            var signingPayload = ActionPayload.LocalSigning(signer: service.signer.description)
            let signing: SigningSettings?
            switch service.signer {
            case .selfSigned: signing = service.signing
            case .authority(let name):
                signing = config.certificateAuthorities[name].flatMap { config.service($0.localAddress)?.signing }
            }
            if let signing {
                signingPayload.validityDays = signing.validityDays
                signingPayload.digest = signing.digest.rawValue
            }
            if case .authority(let name) = service.signer, let ca = config.certificateAuthorities[name],
                let acme = ca.acme
            {
                planACMEIssue(
                    service, state: state, caName: name, acme: acme, reason: reason, previous: &previous,
                    outcome: &outcome)
            } else {
                add(.nextCertificate, .signLocal(signingPayload), extra: caRollId.map { [$0] } ?? [])
            }
        }
        if steps.contains(.bundle) {
            add(.nextBundle, .writeBundle)
        }
        if steps.contains(.tlsa) {
            add(.nextTLSA, .writeServiceTLSA(dane: service.dane.map(\.description)))
        }
        outcome.lastBuildId = previous
        outcome.builtNext = true
    }

    // MARK: production

    private mutating func planProduction(_ service: ServiceConfig, state: ServiceState, outcome: inout ServiceOutcome) {
        let address = service.address
        let certsPath = "certs/\(address.group)/\(address.service)"
        let prodPath = display(config.globals.prodCertDir) + "/\(address.group)/\(address.service)"
        let prod = observation.production.service(address)
        var reason: Reason?
        var depends: [String] = []
        if let rollId = outcome.rollId {
            reason = Reason(.productionChanged, "curr changes in this run")
            depends = [rollId]
        } else if outcome.builtNext {
            reason = Reason(.productionChanged, "next changes in this run")
            depends = (outcome.lastBuildId.map { [$0] } ?? []) + (outcome.currRepairId.map { [$0] } ?? [])
        } else if outcome.currRebuilt, let repairId = outcome.currRepairId {
            reason = Reason(.productionChanged, "curr is repaired in this run: production takes the repaired set")
            depends = [repairId]
        } else {
            let currFiles = state.dbDir(state.curr).map {
                ProductionFileRule.productionFiles($0.files, group: address.group)
            }
            let nextFiles = state.dbDir(state.next).map {
                ProductionFileRule.productionFiles($0.files, group: address.group)
            }
            let usableCurr = outcome.currAfterRun ? currFiles : nil
            // ssl-mgr copied local CAs' private keys to production; sslm never does, and does not count such
            // a copy (identical to certs/) as drift: it says so in a note instead.
            let prodCurr = withoutLegacyCAKeys(
                prod?.curr, certs: state.dbDir(state.curr)?.files, address: address,
                prodPath: prodPath + "/curr")
            let prodNext = withoutLegacyCAKeys(
                prod?.next, certs: state.dbDir(state.next)?.files, address: address,
                prodPath: prodPath + "/next")
            if let difference = ServiceChecks.productionDifference(
                expected: usableCurr, actual: usableCurr == nil ? nil : prodCurr,
                certsPath: certsPath + "/curr", prodPath: prodPath + "/curr")
                ?? ServiceChecks.productionDifference(
                    expected: nextFiles, actual: prodNext,
                    certsPath: certsPath + "/next", prodPath: prodPath + "/next")
            {
                reason = Reason(.productionDrift, difference)
            } else if let drift = productionModeDrift(prod, group: address.group) {
                let wanted = ProductionFileRule.modeText(
                    ProductionFileRule.mode(fileName: (drift.file as NSString).lastPathComponent))
                reason = Reason(
                    .productionDrift, "\(prodPath)/\(drift.file) has mode \(drift.mode); sslm sets \(wanted)")
            } else if let leftover = prod?.leftovers?.first {
                reason = Reason(
                    .productionDrift,
                    "\(prodPath)/\(leftover) was left by an interrupted run (it may hold an old key): removing it")
            } else if request.forceProductionSync && outcome.currAfterRun {
                reason = Reason(.forced, "certs-to-prod: copying \(certsPath) to production although nothing differs")
            }
        }
        guard let reason else { return }
        let syncId = ActionID.service(address, .production)
        actions.append(
            Action(
                syncId, service: address,
                payload: .syncServiceProduction(curr: outcome.currAfterRun, next: outcome.nextAfterRun),
                reason: reason, dependsOn: depends))
        outcome.prodSyncId = syncId.description
    }

    /// The first production file (`curr/<file>` or `next/<file>`) whose mode is not the one sslm sets,
    /// among the files sslm puts there (a legacy CA key copy is left to its note).
    private func productionModeDrift(_ prod: ProductionServiceState?, group: String) -> (file: String, mode: String)? {
        guard let drift = prod?.modeDrift else { return nil }
        for file in drift.keys.sorted()
        where ProductionFileRule.includes(fileName: (file as NSString).lastPathComponent, group: group) {
            if let mode = drift[file] { return (file, mode) }
        }
        return nil
    }

    /// Production files of a local CA without the private key files ssl-mgr copied there, when they are
    /// identical to the ones in `certs/` (a note names them); anything else is left for the comparison.
    private mutating func withoutLegacyCAKeys(
        _ files: [String: String]?, certs: [String: String]?, address: ServiceAddress, prodPath: String
    ) -> [String: String]? {
        guard var files, address.group.lowercased() == GroupConfig.caGroup, let certs else { return files }
        let legacy = ProductionFileRule.caPrivateFiles.sorted().filter { name in
            files[name] != nil && files[name] == certs[name]
        }
        guard !legacy.isEmpty else { return files }
        for name in legacy { files[name] = nil }
        notes.append(
            Note(
                subject: address.description,
                reason: Reason(
                    .caKeyInProduction,
                    "\(legacy.map { prodPath + "/" + $0 }.joined(separator: " and ")): the CA's private key, copied to production "
                        + "by ssl-mgr; sslm never copies CA keys. Delete it there (and on the servers) once nothing reads it; "
                        + "sslm's next production update of this CA drops it")))
        return files
    }

    // MARK: TLSA

    /// Plans the apex TLSA file, its copies and its production copy; returns the ids DNS refresh must follow,
    /// or nil when nothing about the apex's TLSA changes.
    private mutating func planTLSA(apex: String, services: [ServiceAddress]) -> [String]? {
        let daneServices = services.filter { config.service($0)?.dane.isEmpty == false }
        guard !daneServices.isEmpty else { return nil }
        let group = observation.group(apex)
        if let note = group?.tlsaNote {
            notes.append(Note(subject: apex, reason: Reason(.dnsFactsUnavailable, note)))
        } else if let failure = observation.dnsFacts(apex)?.failure {
            notes.append(
                Note(
                    subject: apex,
                    reason: Reason(
                        .dnsFactsUnavailable,
                        "MX lookup for \(apex) failed (\(failure)); TLSA records for MX hosts keep the owners already published (none yet: the apex only)"
                    )))
        }
        var writeReason: Reason?
        var depends: [String] = []
        var rolling = false
        for address in daneServices {
            guard let outcome = outcomes[address] else { continue }
            if let rollId = outcome.rollId {
                depends.append(rollId)
                rolling = true
            } else if outcome.builtNext, let last = outcome.lastBuildId {
                depends.append(last)
            }
        }
        if !depends.isEmpty {
            writeReason = Reason(
                .tlsaChanged,
                rolling
                    ? "curr changes in this run: tlsa.\(apex) keeps the records of the new curr (and of next, if any)"
                    : "a new next in this run: tlsa.\(apex) publishes curr and next records")
        } else if let group, group.tlsaExpected != nil, group.tlsaExpected != group.tlsaFile {
            writeReason = Reason(
                .tlsaDrift,
                group.tlsaFile == nil
                    ? "certs/\(apex)/tlsa.\(apex) is missing"
                    : "certs/\(apex)/tlsa.\(apex) does not match the records of the curr and next certificates")
        }
        var ids: [String] = []
        let writeId = ActionID.apexTLSA(apex: apex).description
        let publishId = ActionID.apexTLSAPublish(apex: apex).description
        if let writeReason {
            actions.append(
                Action(
                    .apexTLSA(apex: apex), payload: .writeApexTLSA(apex: apex, rolling: rolling),
                    reason: writeReason, dependsOn: depends))
            ids.append(writeId)
        }
        let dirs = config.dns.tlsaDirs
        if !dirs.isEmpty {
            let stale = dirs.filter { (group?.tlsaCopies[$0] ?? nil) != group?.tlsaFile }
            if writeReason != nil || (!stale.isEmpty && group?.tlsaFile != nil) {
                let reason =
                    writeReason
                    ?? Reason(
                        .tlsaCopyDrift, "\(display(stale[0]))/tlsa.\(apex) differs from certs/\(apex)/tlsa.\(apex)")
                actions.append(
                    Action(
                        .apexTLSAPublish(apex: apex),
                        payload: .publishTLSA(apex: apex, directories: dirs.map(display)),
                        reason: reason, dependsOn: writeReason == nil ? [] : [writeId]))
                ids.append(publishId)
            }
        }
        let prodDigest = observation.production.tlsaFiles[apex] ?? nil
        if writeReason != nil || (group?.tlsaFile != nil && prodDigest != group?.tlsaFile) {
            let reason =
                writeReason
                ?? Reason(
                    .productionDrift,
                    prodDigest == nil
                        ? "\(display(config.globals.prodCertDir))/\(apex)/tlsa.\(apex) is missing"
                        : "\(display(config.globals.prodCertDir))/\(apex)/tlsa.\(apex) differs from certs/\(apex)/tlsa.\(apex)"
                )
            actions.append(
                Action(
                    .apexProduction(apex: apex), payload: .syncApexTLSA(apex: apex),
                    reason: reason, dependsOn: writeReason == nil ? [] : [writeId]))
            prodTLSAIds.append(ActionID.apexProduction(apex: apex).description)
        }
        let published = ids.contains(publishId) || (dirs.isEmpty && writeReason != nil)
        return published ? ids : nil
    }

    private var prodTLSAIds: [String] = []

    // MARK: servers, DNS

    private mutating func planServersAndDNS(services: [ServiceAddress], tlsaApexes: [String], tlsaIds: [String]) {
        let prodIds = services.compactMap { outcomes[$0]?.prodSyncId } + prodTLSAIds
        let changedCurr = services.filter { outcomes[$0]?.currChanges == true }
        let pending = Set(observation.pendingDeployment)
        var tokens: Set<ChangeToken> = []
        if !changedCurr.isEmpty { tokens.insert(.cert) }
        if !tlsaApexes.isEmpty { tokens.formUnion([.tlsa, .dns]) }
        func retry(_ id: String, _ what: String) -> Reason {
            Reason(.retry, "the last \(what) did not succeed (see .sslm/journal.jsonl): retrying")
        }
        // Copies: when production changes, or to retry a copy that did not succeed.
        var copyIds: [String: String] = [:]
        var done: Set<String> = []
        for section in config.servers where !section.skipProdCopy {
            for host in section.servers where !isLocal(host) && !done.contains(host) {
                done.insert(host)
                let copyId = ActionID.copyToServer(host: host).description
                let reason: Reason
                if !prodIds.isEmpty {
                    reason = Reason(.serversChanged, "production changed: copying it to \(host)")
                } else if pending.contains(copyId) {
                    reason = retry(copyId, "copy to \(host)")
                } else {
                    continue
                }
                let sections = config.servers.filter { $0.servers.contains(host) && !$0.skipProdCopy }.map(\.name)
                actions.append(
                    Action(
                        id: copyId, payload: .copyToServer(host: host, sections: sections),
                        reason: reason, dependsOn: prodIds))
                copyIds[host] = copyId
            }
        }
        // post_copy_cmd: after the copy to its host (or after production, for a host not copied to).
        var postIds: [String: String] = [:]
        for command in config.globals.postCopyCommands {
            let postId = ActionID.postCopy(host: command.host).description
            guard postIds[command.host] == nil else { continue }
            let reason: Reason
            if !prodIds.isEmpty || copyIds[command.host] != nil {
                reason = Reason(.serversChanged, "production changed: post_copy_cmd for \(command.host)")
            } else if pending.contains(postId) {
                reason = retry(postId, "post_copy_cmd for \(command.host)")
            } else {
                continue
            }
            actions.append(
                Action(
                    id: postId, payload: .postCopy(host: command.host, command: command.command),
                    reason: reason, dependsOn: copyIds[command.host].map { [$0] } ?? prodIds))
            postIds[command.host] = postId
        }
        // Restarts: each host after its own copy and post_copy, so one unreachable host does not hold
        // back the others.
        var restartIds: [String] = []
        for section in config.servers where !section.restartCommands.isEmpty && !section.servers.isEmpty {
            var why: String? = request.forceRestarts ? "restart forced (force-server-restarts)" : nil
            let matchedTokens = section.depends.intersection(tokens)
            if why == nil, !matchedTokens.isEmpty {
                why = "depends on \(matchedTokens.map(\.rawValue).sorted().joined(separator: ", ")), which changed"
            }
            if why == nil {
                for dependency in section.serviceDependencies {
                    let hit = changedCurr.first { address in
                        (dependency.matchesEveryGroup || dependency.domain.lowercased() == address.group.lowercased())
                            && dependency.services.contains(address.service)
                    }
                    if let hit { why = "svc_depends: \(hit) has a new curr"; break }
                }
            }
            for host in section.servers {
                let restartId = ActionID.restart(section: section.name, host: host).description
                let reason: Reason
                if let why {
                    reason = Reason(.serversChanged, "[\(section.name)] \(why)")
                } else if pending.contains(restartId) {
                    reason = retry(restartId, "restart of [\(section.name)] on \(host)")
                } else {
                    continue
                }
                var depends = [copyIds[host], postIds[host]].compactMap { $0 }
                if depends.isEmpty { depends = prodIds }
                actions.append(
                    Action(
                        id: restartId,
                        payload: .restartServer(
                            section: section.name, host: host,
                            commands: section.restartCommands.map { $0.joined(separator: " ") }),
                        reason: reason, dependsOn: depends))
                restartIds.append(restartId)
            }
        }
        // After a roll, the TLSA file that drops the old key's records reaches the zone's include directory
        // only once the servers have restarted with the new key (a DNS server that re-reads its includes on
        // its own must never see the shrunk file while a server still presents the old key). A failed
        // restart then leaves the zone with both keys' records: the safe side.
        if !restartIds.isEmpty {
            for apex in tlsaApexes {
                guard let write = actions.first(where: { $0.id == ActionID.apexTLSA(apex: apex).description }),
                    case .writeApexTLSA(_, rolling: true) = write.payload,
                    let index = actions.firstIndex(where: { $0.id == ActionID.apexTLSAPublish(apex: apex).description })
                else { continue }
                actions[index].dependsOn += restartIds.filter { !actions[index].dependsOn.contains($0) }
            }
        }
        // DNS refresh: last, after the restarts (mail servers load the new key before old records go).
        var domains = tlsaApexes
        var refreshReason: Reason?
        if !tlsaApexes.isEmpty {
            refreshReason = Reason(
                .dnsChanged,
                "TLSA records of \(tlsaApexes.joined(separator: ", ")) changed"
                    + (restartIds.isEmpty ? "" : "; after the server restarts, so no server is left without a record"))
        } else if request.forceRestarts || request.forceDNSRefresh {
            domains = orderedUnique(services.map(\.group)).filter { $0.lowercased() != GroupConfig.caGroup }
            refreshReason = Reason(
                .forced, "DNS refresh forced (\(request.forceRestarts ? "force-server-restarts" : "dns-refresh"))")
        } else if pending.contains(ActionID.dnsRefresh.description) {
            domains = orderedUnique(services.map(\.group)).filter {
                $0.lowercased() != GroupConfig.caGroup && observation.group($0) != nil
            }
            refreshReason = retry(ActionID.dnsRefresh.description, "DNS refresh")
        }
        guard let refreshReason, !domains.isEmpty else { return }
        if config.dns.restartCommands.isEmpty {
            notes.append(
                Note(
                    subject: "dns",
                    reason: Reason(
                        .dnsChanged,
                        "TLSA of \(domains.joined(separator: ", ")) changed; [dns] restart_cmd is not set, so refresh the zone yourself"
                    )))
            return
        }
        let matched = config.dns.depends.intersection(tokens)
        guard
            !matched.isEmpty || refreshReason.code == ReasonCode.retry.rawValue
                || refreshReason.code == ReasonCode.forced.rawValue
        else {
            notes.append(
                Note(
                    subject: "dns",
                    reason: Reason(
                        .dnsChanged,
                        "TLSA of \(domains.joined(separator: ", ")) changed, but [dns] depends lists neither 'tlsa' nor 'dns': the zone is not refreshed"
                    )))
            return
        }
        actions.append(
            Action(
                .dnsRefresh, payload: .refreshDNS(domains: domains),
                reason: refreshReason, dependsOn: tlsaIds + restartIds))
    }

    /// A path as shown in reasons: relative to the topdir when inside it, so plans do not depend on
    /// where the topdir is.
    func display(_ path: String) -> String {
        let prefix = config.topdir.hasSuffix("/") ? config.topdir : config.topdir + "/"
        return path.hasPrefix(prefix) ? String(path.dropFirst(prefix.count)) : path
    }

    private func isLocal(_ host: String) -> Bool {
        let lower = host.lowercased()
        return lower == "localhost" || observation.localHostNames.contains { $0.lowercased() == lower }
    }

    // MARK: clean

    private mutating func planClean(_ address: ServiceAddress) {
        guard let state = observation.service(address) else { return }
        let outcome = outcomes[address] ?? ServiceOutcome()
        var keep: Set<String> = []
        if outcome.rollId != nil {
            if let next = state.next.dbName { keep.insert(next) }  // becomes curr
            if let curr = state.curr.dbName { keep.insert(curr) }  // becomes prev
            if state.curr.dbName == nil, let prev = state.prev.dbName { keep.insert(prev) }
        } else {
            for link in [state.curr, state.next, state.prev] { if let name = link.dbName { keep.insert(name) } }
        }
        let candidates = state.dbDirs.map(\.name).filter { !keep.contains($0) }.sorted()
        let limit = max(1, request.cleanKeep ?? config.globals.cleanKeep)
        guard candidates.count > limit else { return }
        let remove = Array(candidates.prefix(candidates.count - limit))
        actions.append(
            Action(
                .service(address, .clean), service: address, payload: .clean(remove: remove),
                reason: Reason(
                    .oldDirectories,
                    "\(candidates.count) old db directories, clean_keep is \(limit): removing \(PlanText.list(remove))"),
                dependsOn: outcome.rollId.map { [$0] } ?? []))
    }
}

/// Elements in first-seen order without repeats.
func orderedUnique<T: Hashable>(_ items: [T]) -> [T] {
    var seen: Set<T> = []
    return items.filter { seen.insert($0).inserted }
}
