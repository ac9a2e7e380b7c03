import Foundation
import Logging
import SSLMACME
import SSLMConfig
import SSLMCore
import SSLMDNS
import SSLMDeploy
import SSLMObserve
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
        try await context.run.recordingOrderFailure(action) {
            try await context.run.acmeOrder(action, request, logger: context.logger)
        }
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
            order = try await newOrder(
                client, address: address, identifiers: identifiers, profile: profile, replaces: replaces,
                logger: logger)
        }
        guard let order else { throw SSLMError(.ioFailure, "no order") }
        let challenges = try await learnChallenges(order, client: client, validation: validation, service: service)
        let open = OpenOrder(
            order: order, directoryURL: directoryURL, validation: validation,
            challenges: challenges, csrDigest: csrDigest)
        await acme.setOrder(open, for: address)
        return open.journalDetail
    }

    /// Opens the order; when the CA refuses `replaces` (Boulder: another account ordered curr, or curr was
    /// replaced already), records that for curr in the certificate ledger and opens it once more without.
    private func newOrder(
        _ client: ACMEClient, address: ServiceAddress, identifiers: [ACMEIdentifier], profile: String?,
        replaces: String?, logger: Logger
    ) async throws -> ACMEOrder {
        do {
            return try await client.newOrder(identifiers, profile: profile, replaces: replaces)
        } catch  where replaces != nil && ACMEClient.refusesReplaces(error) {
            let refusal = Executor.describe(error)
            logger.notice(
                "the CA refuses curr as the certificate this order replaces (\(refusal)): ordering without it")
            if let sha = try? currentCertificateSHA256(address) {
                try CertificateLedger.update(
                    topdir: topdir, certificateSHA256: sha, start: CertificateRecord(ca: "unknown")
                ) { record in
                    var record = record
                    record.replacesRefused = refusal
                    return record
                }
            }
            return try await client.newOrder(identifiers, profile: profile, replaces: nil)
        }
    }
}
