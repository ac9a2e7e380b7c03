import Foundation
import Logging
import SSLMACME
import SSLMConfig
import SSLMCore
import SSLMDNS
import SSLMDeploy
import SSLMPKI
import SSLMPlan
import SwiftASN1
import X509

/// `answer_challenges`: the CA validates a service's challenges (of the type its open order holds).
struct AnswerChallengesHandler: ActionHandler {
    static let kind = ActionKind.answerChallenges

    static func payload(of payload: ActionPayload) throws -> ACMEChallengeType {
        guard case .answerChallenges(let type) = payload else { throw mismatch(payload) }
        return type
    }

    func perform(_: ACMEChallengeType, of action: Action, in context: ActionContext) async throws -> String? {
        try await context.run.recordingOrderFailure(action) {
            try await context.run.answerChallenges(action, logger: context.logger)
        }
    }
}

extension ApplyRun {
    /// Tells the CA the challenges are ready and waits until every authorization is valid.
    fileprivate func answerChallenges(_ action: Action, logger: Logger) async throws -> String? {
        let (address, service) = try service(of: action)
        guard let open = try await ensureOrder(address, logger: logger) else {
            throw SSLMError(.ioFailure, "\(address): no open ACME order (acme_order did not run): make a new plan")
        }
        let client = try await acmeClient(for: open, service: service, logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for pending in open.challenges {
                group.addTask {
                    if pending.challenge.status == "pending" {
                        _ = try await client.respond(to: pending.challenge)
                    }
                    _ = try await client.pollAuthorization(url: pending.authorizationURL)
                }
            }
            try await group.waitForAll()
        }
        return open.challenges.isEmpty
            ? "every authorization was valid already" : "\(open.challenges.count) authorizations valid"
    }
}
