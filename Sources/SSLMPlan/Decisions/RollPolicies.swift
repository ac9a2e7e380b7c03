import Foundation
import SSLMConfig
import SSLMCore

/// The roll policies with longer sentences (see `RollChain` for their order).
extension RollChain {
    /// `--reuse-key` with selector 1 only: a next built now has curr's key, so the records do not change.
    static func newNextKeepsTLSARecords(_ input: RollInput) -> RollVerdict? {
        let currKey = input.state.dbDir(input.state.curr)?.key
        guard input.builtNow, input.dane, input.request.reuseKey, currKey?.spec == input.service.key,
            DANERollChecks.tlsaRecordsAreUnchanged(
                service: input.service, currSPKI: input.currSPKI, nextSPKI: input.currSPKI)
        else { return nil }
        return .roll(
            Reason(
                .nextReady,
                "--reuse-key with selector 1: the TLSA records do not change, nothing to wait for: the new next becomes curr now"
            ))
    }

    /// A next built now waits for `min_roll_mins` (and, with DANE, for its records to be served).
    static func newNextWaits(_ input: RollInput) -> RollVerdict? {
        guard input.builtNow else { return nil }
        let dnsRule =
            input.dane
            ? " and its TLSA records have been served by every name server of \(input.service.address.group) that long and for at least 2 × their TTL"
            : ""
        return .wait(
            Reason(
                .waitingToRoll,
                "the new next rolls to curr when it is \(input.minRollMinutes) min old (min_roll_mins)\(dnsRule)"))
    }

    /// A pending next with curr's key and selector 1 only: its records are the ones already published.
    static func pendingNextKeepsTLSARecords(_ input: RollInput) -> RollVerdict? {
        guard input.dane, let next = input.pendingNext?.directory,
            DANERollChecks.tlsaRecordsAreUnchanged(
                service: input.service, currSPKI: input.currSPKI, nextSPKI: next.key?.spkiSHA256)
        else { return nil }
        return .roll(
            Reason(
                .nextReady,
                "next (db/\(next.name)) keeps curr's key and every dane_tls entry uses selector 1: the TLSA records do not change, nothing to wait for: next becomes curr"
            ))
    }

    /// A pending next at least `min_roll_mins` old rolls; with DANE once its records are served everywhere.
    static func pendingNextIsOldEnough(_ input: RollInput) -> RollVerdict? {
        guard let next = input.pendingNext?.directory, let certificate = input.pendingNext?.certificate
        else { return nil }
        let age = input.age(certificate)
        guard age >= Double(input.minRollMinutes) * 60 else { return nil }
        let old = "next (db/\(next.name)) is \(PlanText.minutes(max(0, age))) old"
        guard input.dane else {
            return .roll(Reason(.nextReady, old + " (min_roll_mins \(input.minRollMinutes)): next becomes curr"))
        }
        let address = input.service.address
        let verdict = DANERollChecks.nextRecordsArePublished(
            apex: address.group, service: address.service, nextName: next.name,
            publication: input.context.observation.danePublication(address.group), now: input.request.now,
            minRollMinutes: input.minRollMinutes)
        if let waiting = verdict.waiting { return .wait(waiting) }
        return .roll(Reason(.nextReady, old + "; " + (verdict.ready ?? "next becomes curr")))
    }

    /// A younger pending next waits; the note says when it rolls.
    static func pendingNextIsYoung(_ input: RollInput) -> RollVerdict? {
        guard let next = input.pendingNext?.directory, let certificate = input.pendingNext?.certificate
        else { return nil }
        let age = input.age(certificate)
        let at = certificate.notBefore.addingTimeInterval(Double(input.minRollMinutes) * 60)
        return .wait(
            Reason(
                .waitingToRoll,
                "next (db/\(next.name)) is \(PlanText.minutes(max(0, age))) old; rolls to curr at \(Timestamps.rfc3339(at)) (in \(PlanText.minutes(at.timeIntervalSince(input.request.now))))"
            ))
    }
}
