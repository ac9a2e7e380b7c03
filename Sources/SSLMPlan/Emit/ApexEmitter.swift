import SSLMConfig
import SSLMCore

/// The actions of an apex: its TLSA file, the file's copies and production copy; and the ACME batches.
extension PlanEmitter {
    /// After a roll, the TLSA file that drops the old key's records reaches the zone's include directory
    /// only once the servers have restarted with the new key (a DNS server that re-reads its includes on
    /// its own must never see the shrunk file while a server still presents the old key). A failed restart
    /// then leaves the zone with both keys' records: the safe side.
    mutating func emitTLSA(_ decision: TLSADecision, restartIds: [String]) {
        let apex = decision.apex
        if let apexNote = decision.note { note(apexNote) }
        if let held = decision.held { note(held) }
        let writeId = ActionID.apexTLSA(apex: apex).description
        let afterWrite = decision.write == nil ? [] : [writeId]
        if let write = decision.write {
            emit(
                Action(
                    .apexTLSA(apex: apex), payload: .writeApexTLSA(apex: apex, rolling: decision.rolling),
                    reason: write,
                    dependsOn: decision.changedServices.compactMap { decisions[$0]?.tlsaInputId }
                        + decision.retiredServices.map { ActionID.service($0, .retire).description }))
        }
        if let publish = decision.publish {
            let afterRestarts = decision.write != nil && decision.rolling ? restartIds : []
            var reason = publish.reason
            if !afterRestarts.isEmpty {
                reason.message +=
                    "; records it withdraws go only if, after the restarts, a probe finds no DANE endpoint still"
                    + " presenting their key (else they stay and the next run retries)"
            }
            emit(
                Action(
                    .apexTLSAPublish(apex: apex), payload: .publishTLSA(apex: apex, directories: publish.directories),
                    reason: reason, dependsOn: afterWrite + afterRestarts))
        }
        if let production = decision.production {
            emit(
                Action(
                    .apexProduction(apex: apex), payload: .syncApexTLSA(apex: apex), reason: production,
                    dependsOn: afterWrite))
        }
    }

    /// Leftover challenges first, then per batch `publish_challenges` (after the orders) and its `clear`
    /// (after the finalizations), for dns-01 with `await_propagation` after one refresh of every apex.
    mutating func emitACME(_ decision: ACMEBatchDecision) {
        let leftoverIds = decision.leftoverApexes.map { ActionID.acmeBatch(apex: $0, .dns01, .clear).description }
        for (apex, id) in zip(decision.leftoverApexes, leftoverIds) {
            let sent = decision.sentBy[apex]
            emit(
                Action(
                    id: id, payload: .publishChallenges(apex: apex, type: .dns01, services: [], clear: true),
                    reason: Reason(
                        .acmeChallenge,
                        sent.map { "an earlier run left challenge records of \(apex): deleting them \($0) per zone" }
                            ?? "acme-challenge.\(apex) still holds challenges of an earlier run: emptying it"))
            )
        }
        let refreshed = zip(decision.leftoverApexes, leftoverIds).filter { decision.sentBy[$0.0] == nil }
        if decision.refreshAfterLeftovers && !refreshed.isEmpty {
            let apexes = refreshed.map(\.0).joined(separator: ", ")
            emit(
                Action(
                    .acmeClearedRefresh, payload: .refreshDNS(domains: refreshed.map(\.0)),
                    reason: Reason(.acmeChallenge, "the leftover dns-01 challenges of \(apexes) were removed"),
                    dependsOn: refreshed.map(\.1)))
        }
        for batch in decision.batches { emitBatch(batch) }
        // Zones that sslm changes itself (rfc2136, exec) need no refresh.
        let dnsApexes = decision.dnsApexes.filter { decision.sentBy[$0] == nil }
        guard !dnsApexes.isEmpty else { return }
        let names = dnsApexes.joined(separator: ", ")
        emit(
            Action(
                .acmeChallengeRefresh, payload: .refreshDNS(domains: dnsApexes),
                reason: Reason(.acmeChallenge, "one refresh for the dns-01 challenges of \(names)"),
                dependsOn: dnsApexes.map { ActionID.acmeBatch(apex: $0, .dns01, .publish).description }))
        emit(
            Action(
                .acmeClearedRefresh, payload: .refreshDNS(domains: dnsApexes),
                reason: Reason(.acmeChallenge, "the dns-01 challenges of \(names) were removed"),
                dependsOn: dnsApexes.map { ActionID.acmeBatch(apex: $0, .dns01, .clear).description }))
    }

    private mutating func emitBatch(_ batch: ACMEBatchDecision.Batch) {
        let (apex, validation) = (batch.apex, batch.validation)
        let names = batch.services.map(\.service).joined(separator: ", ")
        let dns = validation == .dns01
        let sent = dns ? batch.sentBy : nil
        let what =
            dns
            ? sent.map { "the dns-01 challenges of \(names) \($0) per zone" }
                ?? "acme-challenge.\(apex) with the dns-01 challenges of \(names), in one write"
            : "the http-01 tokens of \(names) under [web] server_dir/\(apex)"
        emit(
            Action(
                .acmeBatch(apex: apex, validation, .publish),
                payload: .publishChallenges(apex: apex, type: validation, services: batch.services, clear: false),
                reason: Reason(.acmeChallenge, "publishing " + what),
                dependsOn: batch.services.map { ActionID.service($0, .nextOrder).description }))
        emit(
            Action(
                .acmeBatch(apex: apex, validation, .clear),
                payload: .publishChallenges(apex: apex, type: validation, services: batch.services, clear: true),
                reason: Reason(
                    .acmeChallenge,
                    dns
                        ? (sent.map {
                            "the orders of \(apex) are done: their challenge records are deleted \($0) per zone"
                        }
                            ?? "the orders of \(apex) are done: acme-challenge.\(apex) is emptied")
                        : "the orders of \(apex) are done: the http-01 tokens are removed"),
                dependsOn: batch.services.map { ActionID.service($0, .nextCertificate).description }))
        guard dns else { return }
        emit(
            Action(
                .acmeBatch(apex: apex, .dns01, .await), payload: .awaitPropagation(apex: apex),
                reason: Reason(
                    .acmeChallenge,
                    "the CA validates only when the primary and every nameserver of \(apex) serve the challenges"),
                dependsOn: [
                    sent == nil
                        ? ActionID.acmeChallengeRefresh.description
                        : ActionID.acmeBatch(apex: apex, .dns01, .publish).description
                ]))
    }
}
