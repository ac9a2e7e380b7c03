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

/// `acme_order`: opens (or resumes) a service's order. Its detail is the open order, which the later ACME
/// actions reopen when they run in a later process (`ResumeRule.detailForLaterRuns`).
struct ACMEOrderHandler: ActionHandler {
    static let kind = ActionKind.acmeOrder
    static let resume = ResumeRule.detailForLaterRuns

    static func payload(of payload: ActionPayload) throws -> ActionPayload.ACMEOrderRequest {
        guard case .acmeOrder(let request) = payload else { throw mismatch(payload) }
        return request
    }

    func perform(_ request: ActionPayload.ACMEOrderRequest, of action: Action, in context: ActionContext)
        async throws -> String?
    {
        try await context.run.acmeOrder(action, request, logger: context.logger)
    }
}

extension ApplyRun {
    /// Opens (or resumes) the order of the service's `next/csr.pem` and learns its challenges.
    fileprivate func acmeOrder(_ action: Action, _ request: ActionPayload.ACMEOrderRequest, logger: Logger) async throws
        -> String?
    {
        let (address, service) = try service(of: action)
        let (_, settings) = try acmeAuthority(of: service)
        let validation = settings.validation
        let directoryURL = request.directory
        let client = try await acmeClient(
            directoryURL: directoryURL, service: service, settings: settings,
            logger: logger)
        let csrDigest = try currentCSRDigest(address)
        let identifiers = service.sans.map(Self.identifier)
        var order: ACMEOrder?
        if let earlier = resumableOrder(actionId: action.id, csrDigest: csrDigest) {
            do {
                let found = try await client.order(url: earlier)
                if found.status != "invalid", Set(found.identifiers) == Set(identifiers) {
                    order = found
                    logger.info("resuming order \(earlier) (\(found.status))")
                } else {
                    logger.notice("order \(earlier) is \(found.status): opening a new one")
                }
            } catch {
                logger.notice("order \(earlier) cannot be resumed (\(Executor.describe(error))): opening a new one")
            }
        }
        if order == nil {
            let directory = try await client.directory()
            let profile = try Self.chooseProfile(request.profile, offered: directory.profiles)
            var replaces: String?
            if request.replacesCurrent, directory.renewalInfo != nil {
                replaces = try? currentCertificateID(address)
            }
            order = try await client.newOrder(identifiers, profile: profile, replaces: replaces)
        }
        guard let order else { throw SSLMError(.ioFailure, "no order") }
        let challenges = try await learnChallenges(order, client: client, validation: validation, service: service)
        let open = OpenOrder(
            order: order, directoryURL: directoryURL, validation: validation,
            challenges: challenges, csrDigest: csrDigest)
        await acme.setOrder(open, for: address)
        return open.journalDetail
    }
}
