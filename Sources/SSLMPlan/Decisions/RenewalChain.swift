import Foundation
import SSLMConfig
import SSLMCore

/// What a renewal policy looks at: curr's certificate and set, the service, its signer, the renewal
/// assessment and the CA's ARI window for this very certificate (when the CA offers one).
struct RenewalInput {
    var certificate: CertificateFacts
    var directory: DBDirState
    var service: ServiceConfig
    var signer: SignerFacts
    var assessment: RenewalAssessment
    var window: RenewalWindow?
    var request: PlanningRequest
    var issuers: IssuerExpectation
}

/// One named check of the renewal chain: the reason curr is replaced now, or nil when its condition does
/// not hold. Pure.
struct RenewalPolicy: Sendable {
    let name: String
    let check: @Sendable (RenewalInput) -> Reason?
}

/// The renewal policies in precedence order, like cert-manager's `policies.Chain`: evaluated in order, the
/// first that fires gives the reason. The CA's ARI window, when there is one for curr, replaces
/// `[renew_info]`; `--force` comes last, so a real reason is always the one recorded.
enum RenewalChain {
    static let policies: [RenewalPolicy] = [
        RenewalPolicy(name: "certificateDiffersFromConfig") { input in
            ServiceChecks.certificateDiffersFromConfig(
                input.certificate, service: input.service, signerSubject: nil, slot: "curr", checksSigner: false)
        },
        RenewalPolicy(name: "issuerDiffersFromConfig") { input in
            input.issuers.change(of: input.certificate, slot: "curr")
        },
        RenewalPolicy(name: "issuerChanged") { input in
            guard let caName = input.signer.caName else { return nil }
            return ServiceChecks.issuerChanged(
                input.directory, caName: caName, caFullchainDigest: input.signer.fullchain,
                caRollsNow: input.signer.caRollsNow)
        },
        RenewalPolicy(name: "certificateIsRevoked") { input in
            input.request.observation.record(of: input.certificate)?.revoked.map {
                ServiceChecks.certificateIsRevoked($0, slot: "curr")
            }
        },
        RenewalPolicy(name: "renewalWindowIsOpen") { input in
            input.window.flatMap { ServiceChecks.renewalWindowIsOpen($0, now: input.request.now) }
        },
        RenewalPolicy(name: "renewalIsDue") { input in
            input.window == nil ? ServiceChecks.renewalIsDue(input.assessment) : nil
        },
        RenewalPolicy(name: "replacementIsRequested") { input in
            guard input.request.replaceNow, input.request.phase != .roll else { return nil }
            return Reason(.forced, "--replace: a new certificate replaces curr and becomes curr in this run")
        },
        RenewalPolicy(name: "renewalIsForced") { input in
            guard input.request.force, input.request.phase != .roll else { return nil }
            return Reason(.forced, "--force: renewing although curr " + input.assessment.sentence)
        },
    ]

    /// The reason of the first policy that fires; nil when curr is not renewed.
    static func evaluate(_ input: RenewalInput) -> Reason? {
        for policy in policies {
            if let reason = policy.check(input) { return reason }
        }
        return nil
    }
}

/// Whether a usable curr is renewed in this run, and why; when it is not, `notDueSentence` says when it
/// will be.
struct RenewalDecision {
    var reason: Reason?
    var assessment: RenewalAssessment
    var window: RenewalWindow?
    var certificate: CertificateFacts

    /// Renewal of a usable curr with a certificate; nil when curr is unusable or has no certificate.
    static func decide(
        _ service: ServiceConfig, curr: CurrDecision, signer: SignerFacts, context: PlanningContext
    ) -> RenewalDecision? {
        guard curr.problem == nil, let directory = curr.directory, let certificate = directory.certificate
        else { return nil }
        let request = context.request
        let assessment = RenewalAssessment(certificate: certificate, renewInfo: service.renewInfo, now: request.now)
        let window = context.observation.renewalWindows?[service.address.description].flatMap {
            $0.serialHex == certificate.serialHex ? $0 : nil
        }
        let input = RenewalInput(
            certificate: certificate, directory: directory, service: service, signer: signer,
            assessment: assessment, window: window, request: request,
            issuers: IssuerExpectation(service, signer: signer, context: context))
        return RenewalDecision(
            reason: RenewalChain.evaluate(input), assessment: assessment, window: window, certificate: certificate)
    }

    /// When curr is due: the CA's window (ARI) when it gave one for curr, else `[renew_info]`.
    var notDueSentence: String {
        if let window {
            return "curr expires \(PlanText.day(certificate.notAfter)); the CA's renewal window (ARI) is "
                + "\(Timestamps.rfc3339(window.start)) – \(Timestamps.rfc3339(window.end)); due \(Timestamps.rfc3339(window.renewAt))"
        }
        return "curr " + assessment.sentence + "; due \(Timestamps.rfc3339(assessment.renewAt))"
    }
}
