import Foundation
import SSLMConfig
import SSLMCore

/// The roll policies with longer sentences (see `RollChain` for their order).
extension RollChain {
    /// `--replace` (ssl-mgr `-renew -roll -f`): the new next becomes curr now. For a DANE service the
    /// sentence says what happens to TLSA: with `--reuse-key` and selector 1 the records stay valid;
    /// otherwise curr's new key has no record in DNS until the refreshed zone reaches every name server.
    static func replacementRollsNow(_ input: RollInput) -> RollVerdict? {
        guard input.request.replaceNow, input.builtNow || input.pendingNext != nil, input.request.phase != .renew
        else { return nil }
        var text = "--replace: next becomes curr now, without waiting for min_roll_mins"
        if input.dane {
            let keeps =
                input.request.reuseKey
                && DANERollChecks.tlsaRecordsAreUnchanged(
                    service: input.service, currSPKI: input.currSPKI, nextSPKI: input.currSPKI)
            text +=
                keeps
                ? "; --reuse-key with selector 1: the TLSA records stay valid, nothing breaks"
                : "; TLSA: the new key's records are published in this run (next + curr), but DANE-validating "
                    + "clients of \(input.service.address) fail from the restart until every name server serves "
                    + "them (the zone refresh plus the secondaries' transfer; the records' TTL of cached answers "
                    + "\(input.service.daneTTL.map { "at most \($0) s" } ?? "the zone's TTL")); use --reuse-key to avoid that window"
        }
        return .roll(Reason(.forced, text))
    }

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
        if let waiting = verdict.waiting { return blockedRoll(input, certificate: certificate, waiting: waiting) }
        return .roll(Reason(.nextReady, old + "; " + (verdict.ready ?? "next becomes curr")))
    }

    /// A DANE roll whose records are not (yet) served everywhere. Past `dane_roll_stuck_hours` of waiting
    /// it is reported stuck (`roll_stuck`); within `dane_roll_deadline_days` of curr's expiry it rolls
    /// without the records (`roll_deadline`, a warning): an expired certificate breaks every client, a
    /// missing TLSA record only DANE-validating ones.
    static func blockedRoll(_ input: RollInput, certificate: CertificateFacts, waiting: Reason) -> RollVerdict {
        let globals = input.context.config.globals
        let now = input.request.now
        let since = certificate.notBefore.addingTimeInterval(Double(input.minRollMinutes) * 60)
        let waited = max(0, now.timeIntervalSince(since))
        var deadlineText = ""
        if globals.daneRollDeadlineDays > 0, let end = input.state.dbDir(input.state.curr)?.certificate?.notAfter {
            let deadline = end.addingTimeInterval(-Double(globals.daneRollDeadlineDays) * 86_400)
            if now >= deadline {
                return .roll(
                    Reason(
                        .rollDeadline,
                        "WARNING: curr expires \(Timestamps.rfc3339(end)), within dane_roll_deadline_days "
                            + "(\(globals.daneRollDeadlineDays) d): next rolls WITHOUT its TLSA records being served "
                            + "everywhere (\(waiting.message)); DANE-validating clients fail until DNS serves them, "
                            + "an expired certificate would fail every client"))
            }
            deadlineText = "; rolls without them from \(Timestamps.rfc3339(deadline)) (dane_roll_deadline_days)"
        }
        guard waited >= Double(globals.daneRollStuckHours) * 3_600 else { return .wait(waiting) }
        return .wait(
            Reason(
                .rollStuck,
                "stuck: the roll has waited \(PlanText.minutes(waited)) for its TLSA records (since "
                    + "\(Timestamps.rfc3339(since)); dane_roll_stuck_hours \(globals.daneRollStuckHours)): "
                    + waiting.message + deadlineText))
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
