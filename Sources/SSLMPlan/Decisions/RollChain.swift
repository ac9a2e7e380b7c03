import Foundation
import SSLMConfig
import SSLMCore

/// What a roll policy looks at: the service and its state, whether curr is unusable, whether next is built
/// in this run, and the run.
struct RollInput {
    var service: ServiceConfig
    var state: ServiceState
    var currProblem: Reason?
    var builtNow: Bool
    var context: PlanningContext

    var request: PlanningRequest { context.request }
    var minRollMinutes: Int { context.minRollMinutes }
    var dane: Bool { !service.dane.isEmpty }
    var currSPKI: String? { state.dbDir(state.curr)?.key?.spkiSHA256 }
    /// The pending next and its certificate, when it has one.
    var pendingNext: (directory: DBDirState, certificate: CertificateFacts)? {
        guard let next = state.dbDir(state.next), let certificate = next.certificate else { return nil }
        return (next, certificate)
    }
    /// How long the pending next's certificate has been valid, in seconds.
    func age(_ certificate: CertificateFacts) -> Double { request.now.timeIntervalSince(certificate.notBefore) }
}

/// A roll policy's verdict: next becomes curr now, or it waits (with the reason of the note, if any).
enum RollVerdict {
    case roll(Reason)
    case wait(Reason?)
}

/// One named check of the roll chain: a verdict when its condition holds, nil to ask the next policy.
struct RollPolicy: Sendable {
    let name: String
    let check: @Sendable (RollInput) -> RollVerdict?
}

/// Whether next (pending, or built in this run) becomes curr in this run: the roll policies in precedence
/// order, the first with a verdict wins. The phase comes first, then an unusable curr, `--force`, a next
/// built now, and last the age and the TLSA publication of a pending next.
enum RollChain {
    static let policies: [RollPolicy] = [
        RollPolicy(name: "phaseIsRenew") { input in
            input.request.phase == .renew
                ? .wait(Reason(.phaseSkipped, "next waits for the roll phase (--phase renew)")) : nil
        },
        RollPolicy(name: "currIsUnusable") { input in
            input.currProblem == nil
                ? nil : .roll(Reason(.firstCertificate, "there is no usable curr to roll from: next becomes curr now"))
        },
        RollPolicy(name: "currIsRevoked") { input in
            guard let certificate = input.state.dbDir(input.state.curr)?.certificate,
                let revoked = input.context.observation.record(of: certificate)?.revoked
            else { return nil }
            return .roll(ServiceChecks.certificateIsRevoked(revoked, slot: "curr"))
        },
        RollPolicy(name: "replacementRollsNow", check: replacementRollsNow),
        RollPolicy(name: "rollIsForced") { input in
            input.request.force && input.request.phase == .roll
                ? .roll(Reason(.forced, "--force: rolling next to curr without waiting for min_roll_mins")) : nil
        },
        RollPolicy(name: "newNextKeepsTLSARecords", check: newNextKeepsTLSARecords),
        RollPolicy(name: "newNextRollsAtOnce") { input in
            input.builtNow && input.minRollMinutes == 0 && !input.dane
                ? .roll(Reason(.nextReady, "min_roll_mins is 0: the new next becomes curr now")) : nil
        },
        RollPolicy(name: "newNextWaits", check: newNextWaits),
        RollPolicy(name: "pendingNextIsUnreadable") { input in input.pendingNext == nil ? .wait(nil) : nil },
        RollPolicy(name: "pendingNextKeepsTLSARecords", check: pendingNextKeepsTLSARecords),
        RollPolicy(name: "pendingNextIsOldEnough", check: pendingNextIsOldEnough),
        RollPolicy(name: "pendingNextIsYoung", check: pendingNextIsYoung),
    ]

    /// The verdict of the first policy that gives one.
    static func evaluate(_ input: RollInput) -> RollVerdict {
        for policy in policies {
            if let verdict = policy.check(input) { return verdict }
        }
        return .wait(nil)
    }
}
