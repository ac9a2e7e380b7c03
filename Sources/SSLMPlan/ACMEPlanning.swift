import SSLMConfig
import SSLMCore

/// One certificate this run issues from an ACME CA: the service's chain of actions and the apex batch it
/// belongs to.
struct ACMEIssue {
    var address: ServiceAddress
    var validation: ACMESettings.Validation
    var orderId: String
    var finalizeId: String
}

/// ACME issuing: per service `acme_order` → `answer_challenges` → `finalize_order` (the `…/next/cert`
/// step), and per apex and challenge type one `publish_challenges`; for dns-01 one `refresh_dns` for
/// every apex of the run, then one `await_propagation` per apex; afterwards the challenges are cleared
/// (`publish_challenges` with `clear`) and, for dns-01, DNS is refreshed once more.
///
/// Apex actions are added after every service was planned, so services refer to them before they exist;
/// `ActionOrdering.batched` then puts every action after its dependencies.
extension PlanBuilder {
    static func batchId(apex: String, _ validation: ACMESettings.Validation, _ step: ActionID.ACMEBatchStep) -> String {
        ActionID.acmeBatch(apex: apex, validation, step).description
    }

    static let dnsChallengeRefreshId = ActionID.acmeChallengeRefresh.description
    static let dnsClearedRefreshId = ActionID.acmeClearedRefresh.description

    mutating func planACMEIssue(
        _ service: ServiceConfig, state: ServiceState, caName: String, acme: ACMESettings, reason: Reason,
        previous: inout String?, outcome: inout ServiceOutcome
    ) {
        let address = service.address
        let apex = address.group
        let staging = request.acmeStaging
        let chain = acme.preferredChain.flatMap { $0.isEmpty ? nil : $0 }
        // ARI (RFC 9773): a renewal names the certificate it replaces; the executor sends it only when the
        // CA offers renewalInfo.
        let replacesCurrent = state.dbDir(state.curr).map { $0.certificate != nil && !$0.problemsMakeUnusable }
        let order = ActionPayload.ACMEOrderRequest(
            ca: caName, type: acme.validation, identifiers: service.sans,
            directory: staging ? (acme.stagingDirectoryURL ?? acme.directoryURL) : acme.directoryURL,
            profile: acme.preferredProfile ?? "tlsserver", preferredChain: chain,
            replacesCurrent: replacesCurrent ?? false)
        func add(_ step: ActionID.ServiceStep, _ payload: ActionPayload, extra: [String] = []) -> String {
            let actionId = ActionID.service(address, step)
            actions.append(
                Action(
                    actionId, service: address, payload: payload, reason: reason,
                    dependsOn: (previous.map { [$0] } ?? []) + extra))
            previous = actionId.description
            return actionId.description
        }
        let orderId = add(.nextOrder, .acmeOrder(order))
        let gate =
            acme.validation == .dns01
            ? Self.batchId(apex: apex, .dns01, .await) : Self.batchId(apex: apex, .http01, .publish)
        _ = add(.nextAnswer, .answerChallenges(type: acme.validation), extra: [gate])
        let finalizeId = add(.nextCertificate, .finalizeOrder(signer: caName, preferredChain: chain))
        acmeIssues.append(
            ACMEIssue(
                address: address, validation: acme.validation, orderId: orderId,
                finalizeId: finalizeId))
    }

    /// The apex actions of this run's ACME issues (see the type's comment).
    mutating func planACMEChallenges() {
        planLeftoverChallenges()
        guard !acmeIssues.isEmpty else { return }
        let apexes = orderedUnique(acmeIssues.map(\.address.group))
        var dnsPublishIds: [String] = []
        var dnsApexes: [String] = []
        var dnsClearIds: [String] = []
        for validation in [ACMESettings.Validation.http01, .dns01] {
            for apex in apexes {
                let issues = acmeIssues.filter { $0.address.group == apex && $0.validation == validation }
                guard !issues.isEmpty else { continue }
                let names = issues.map(\.address.service).joined(separator: ", ")
                let publishId = Self.batchId(apex: apex, validation, .publish)
                let what =
                    validation == .dns01
                    ? "acme-challenge.\(apex) with the dns-01 challenges of \(names), in one write"
                    : "the http-01 tokens of \(names) under [web] server_dir/\(apex)"
                actions.append(
                    Action(
                        id: publishId,
                        payload: .publishChallenges(
                            apex: apex, type: validation, services: issues.map(\.address), clear: false),
                        reason: Reason(.acmeChallenge, "publishing " + what),
                        dependsOn: issues.map(\.orderId)))
                let clearId = Self.batchId(apex: apex, validation, .clear)
                actions.append(
                    Action(
                        id: clearId,
                        payload: .publishChallenges(
                            apex: apex, type: validation, services: issues.map(\.address), clear: true),
                        reason: Reason(
                            .acmeChallenge,
                            validation == .dns01
                                ? "the orders of \(apex) are done: acme-challenge.\(apex) is emptied"
                                : "the orders of \(apex) are done: the http-01 tokens are removed"),
                        dependsOn: issues.map(\.finalizeId)))
                if validation == .dns01 {
                    dnsPublishIds.append(publishId)
                    dnsApexes.append(apex)
                    dnsClearIds.append(clearId)
                    actions.append(
                        Action(
                            id: Self.batchId(apex: apex, .dns01, .await), payload: .awaitPropagation(apex: apex),
                            reason: Reason(
                                .acmeChallenge,
                                "the CA validates only when the primary and every nameserver of \(apex) serve the challenges"
                            ),
                            dependsOn: [Self.dnsChallengeRefreshId]))
                }
            }
        }
        guard !dnsApexes.isEmpty else { return }
        actions.append(
            Action(
                id: Self.dnsChallengeRefreshId, payload: .refreshDNS(domains: dnsApexes),
                reason: Reason(
                    .acmeChallenge, "one refresh for the dns-01 challenges of \(dnsApexes.joined(separator: ", "))"),
                dependsOn: dnsPublishIds))
        actions.append(
            Action(
                id: Self.dnsClearedRefreshId, payload: .refreshDNS(domains: dnsApexes),
                reason: Reason(
                    .acmeChallenge, "the dns-01 challenges of \(dnsApexes.joined(separator: ", ")) were removed"),
                dependsOn: dnsClearIds))
    }
}

extension PlanBuilder {
    /// Challenge files an earlier run left filled (it stopped before its cleanup): emptied, DNS refreshed.
    mutating func planLeftoverChallenges() {
        let busy = Set(acmeIssues.filter { $0.validation == .dns01 }.map(\.address.group))
        let apexes = (observation.acmeChallengeLeftovers ?? []).filter { !busy.contains($0) }.sorted()
        guard !apexes.isEmpty else { return }
        var ids: [String] = []
        for apex in apexes {
            let id = Self.batchId(apex: apex, .dns01, .clear)
            actions.append(
                Action(
                    id: id, payload: .publishChallenges(apex: apex, type: .dns01, services: [], clear: true),
                    reason: Reason(
                        .acmeChallenge, "acme-challenge.\(apex) still holds challenges of an earlier run: emptying it"))
            )
            ids.append(id)
        }
        guard !config.dns.restartCommands.isEmpty, acmeIssues.allSatisfy({ $0.validation != .dns01 }) else { return }
        actions.append(
            Action(
                id: Self.dnsClearedRefreshId, payload: .refreshDNS(domains: apexes),
                reason: Reason(
                    .acmeChallenge, "the leftover dns-01 challenges of \(apexes.joined(separator: ", ")) were removed"),
                dependsOn: ids))
    }
}

extension DBDirState {
    /// Whether the observer found problems that make this set unusable as the certificate being replaced.
    var problemsMakeUnusable: Bool { problems["cert.pem"] != nil }
}

/// Puts a plan's actions in an order the executor can run: every action after its dependencies.
///
/// Actions that only depend on earlier ones keep their order (plans without ACME are unchanged). Among the
/// actions that are ready, the planner's order wins, except for the kinds the executor runs concurrently
/// (`ActionKind.runsConcurrently`): those wait until nothing else is ready and then come out together, the
/// earliest stage first (orders, propagation waits, answers, finalizations), so that each stage of every
/// service forms one consecutive batch: http-01 answers wait for the dns-01 propagation and go with the
/// dns-01 answers.
enum ActionOrdering {
    static func batched(_ actions: [Action]) -> [Action] {
        let index = Dictionary(actions.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { first, _ in first })
        var emitted: Set<String> = []
        var remaining = Array(actions.indices)
        var result: [Action] = []
        result.reserveCapacity(actions.count)
        func ready(_ i: Int) -> Bool {
            actions[i].dependsOn.allSatisfy { emitted.contains($0) || index[$0] == nil }
        }
        while !remaining.isEmpty {
            if let position = remaining.firstIndex(where: { !actions[$0].kind.runsConcurrently && ready($0) }) {
                let i = remaining.remove(at: position)
                result.append(actions[i])
                emitted.insert(actions[i].id)
                continue
            }
            let readyBatch = remaining.filter { actions[$0].kind.runsConcurrently && ready($0) }
                .sorted { (actions[$0].kind.batchStage, $0) < (actions[$1].kind.batchStage, $1) }
            guard let first = readyBatch.first else {
                // A cycle (a planner bug): keep the rest in planner order; the executor refuses it.
                result.append(contentsOf: remaining.map { actions[$0] })
                break
            }
            let kind = actions[first].kind
            let batch = readyBatch.filter { actions[$0].kind == kind }
            for i in batch {
                result.append(actions[i])
                emitted.insert(actions[i].id)
            }
            remaining.removeAll { batch.contains($0) }
        }
        return result
    }
}
