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

/// What the ACME handlers share (acme_order, publish_challenges, await_propagation, answer_challenges,
/// finalize_order; `refresh_dns` is shared with the TLSA refresh): the open orders, clients and accounts.
///
/// The order of each service is kept in `ACMERunState`; when an action runs in a later process than the
/// `acme_order` that opened the order (a resumed run), the order is fetched again from the URL the journal
/// recorded. Nothing here writes outside `next/`, `[dns] acme_dir`, `[web] server_dir/<apex>` and
/// `<topdir>/.sslm/acme`.
extension ApplyRun {
    /// The challenge of the configured type of every authorization that is not valid yet.
    func learnChallenges(
        _ order: ACMEOrder, client: ACMEClient, validation: ACMESettings.Validation, service: ServiceConfig
    ) async throws -> [PendingChallenge] {
        // An order past `pending` needs no more challenges (a resumed order, or a CA that reuses
        // authorizations).
        guard order.status == "pending" else { return [] }
        var result: [PendingChallenge] = []
        for url in order.authorizations {
            let authorization = try await client.authorization(url: url)
            let name = (authorization.wildcard ? "*." : "") + authorization.identifier.value
            if authorization.status == "valid" { continue }
            guard authorization.status == "pending" else {
                throw SSLMError(
                    .ioFailure,
                    "the CA's authorization of \(name) is \(authorization.status) (\(url)): the order cannot be finished; the next run opens a new order"
                )
            }
            guard let challenge = authorization.challenges.first(where: { $0.type == validation.rawValue }) else {
                let offered = authorization.challenges.map(\.type).joined(separator: ", ")
                throw SSLMError(
                    .configInvalid,
                    "the CA offers no \(validation.rawValue) challenge for \(name) (offered: \(offered))"
                        + (authorization.wildcard ? "; wildcard names validate by dns-01 only" : "")
                        + ": change ca_validation of the service's CA (\(service.file))")
            }
            let value =
                validation == .http01
                ? try await client.keyAuthorization(token: challenge.token)
                : try await client.dns01Value(token: challenge.token)
            result.append(
                PendingChallenge(
                    authorizationURL: url, identifier: name, status: authorization.status, challenge: challenge,
                    value: value))
        }
        return result
    }

    /// The open order of `address`: from this run, or fetched again from the journal's `acme_order` record.
    func ensureOrder(_ address: ServiceAddress, logger: Logger) async throws -> OpenOrder? {
        if let open = await acme.order(for: address) { return open }
        let orderId = ActionID.service(address, .nextOrder).description
        guard let detail = recordedOrders[orderId], let parsed = OpenOrder.parse(detail: detail)
        else { return nil }
        guard let service = config.service(address) else { return nil }
        let (_, settings) = try acmeAuthority(of: service)
        let directoryURL = parsed.directoryURL ?? settings.directoryURL
        let client = try await acmeClient(
            directoryURL: directoryURL, service: service, settings: settings,
            logger: logger)
        let order = try await client.order(url: parsed.orderURL)
        let challenges = try await learnChallenges(
            order, client: client, validation: settings.validation, service: service)
        let open = OpenOrder(
            order: order, directoryURL: directoryURL, validation: settings.validation,
            challenges: challenges, csrDigest: parsed.csrDigest)
        await acme.setOrder(open, for: address)
        return open
    }

    /// The URL of the newest order the journal shows for this action and this CSR (any plan).
    func resumableOrder(actionId: String, csrDigest: String) -> String? {
        guard let detail = recordedOrders[actionId], let parsed = OpenOrder.parse(detail: detail),
            parsed.csrDigest == csrDigest
        else { return nil }
        return parsed.orderURL
    }

    func currentCSRDigest(_ address: ServiceAddress) throws -> String {
        let next = try ServiceTree(topdir: topdir, address: address).required("next")
        return ContentDigest.labelled(try FileBytes.read(next + "/" + CertificateFileSet.Name.request))
    }

    /// RFC 9773 CertID of `curr/cert.pem`.
    func currentCertificateID(_ address: ServiceAddress) throws -> String {
        let curr = try ServiceTree(topdir: topdir, address: address).required("curr")
        let path = curr + "/" + CertificateFileSet.Name.certificate
        guard let block = try PEMBlock.parseAll(try FileBytes.read(path), file: path).first else {
            throw SSLMError(.malformedInput, "\(path) holds no certificate")
        }
        return try ACMEClient.ariCertID(try Certificate(derEncoded: block.derBytes))
    }

    /// Runs one ACME step of `action`'s service; when it fails, the failure (the run's time, the error) is
    /// added to the service's failed orders (`OrderFailureLog`), from which the planner backs off.
    func recordingOrderFailure(_ action: Action, _ body: () async throws -> String?) async throws -> String? {
        do {
            return try await body()
        } catch {
            if let service = action.service {
                let failure = OrderFailure(time: now, reason: Executor.describe(error))
                try? OrderFailureLog.record(failure, service: service, topdir: topdir)
            }
            throw error
        }
    }

    /// SHA-256 (hex) of the DER of `curr/cert.pem`: its key in the certificate ledger.
    func currentCertificateSHA256(_ address: ServiceAddress) throws -> String {
        let curr = try ServiceTree(topdir: topdir, address: address).required("curr")
        let path = curr + "/" + CertificateFileSet.Name.certificate
        guard let block = try PEMBlock.parseAll(try FileBytes.read(path), file: path).first else {
            throw SSLMError(.malformedInput, "\(path) holds no certificate")
        }
        return ContentDigest.sha256Hex(block.derBytes)
    }

    func acmeAuthority(of service: ServiceConfig) throws -> (CertificateAuthority, ACMESettings) {
        guard case .authority(let name) = service.signer, let authority = config.certificateAuthorities[name],
            let settings = authority.acme
        else {
            throw SSLMError(.configInvalid, "\(service.file): signing_ca \(service.signer) is not an ACME CA")
        }
        return (authority, settings)
    }

    func acmeClient(
        directoryURL: String, service: ServiceConfig, settings: ACMESettings, logger: Logger
    ) async throws -> ACMEClient {
        let (authority, _) = try acmeAuthority(of: service)
        let accounts = try StateDirectory.ensure(topdir: topdir) + "/acme/accounts"
        return try await acme.client(
            directoryURL: directoryURL, authority: authority, settings: settings, email: service.subject.email,
            accountsDirectory: accounts, logger: logger, limits: options.acmeLimits)
    }

    func acmeClient(for open: OpenOrder, service: ServiceConfig, logger: Logger) async throws -> ACMEClient {
        let (_, settings) = try acmeAuthority(of: service)
        return try await acmeClient(
            directoryURL: open.directoryURL, service: service, settings: settings,
            logger: logger)
    }

    /// The services of this run's plan that validate `validation` under `apex`: those of the publish action
    /// of the same batch.
    func acmeServices(ofApex apex: String, validation: ACMEChallengeType) -> [ServiceAddress] {
        let publishId = ActionID.acmeBatch(apex: apex, validation, .publish).description
        guard let publish = plan?.actions.first(where: { $0.id == publishId }),
            case .publishChallenges(_, _, let services, _) = publish.payload
        else { return [] }
        return services
    }

    static func identifier(_ san: String) -> ACMEIdentifier {
        HostName.isIPv4(san) || HostName.isIPv6(san)
            ? ACMEIdentifier(type: "ip", value: san) : ACMEIdentifier(type: "dns", value: san.lowercased())
    }

    /// The profile to request for the plan's `choice` among the profiles the CA `offered`: none when the CA
    /// lists none; a named profile must be listed (else an error); the default is `tlsserver` when listed.
    static func chooseProfile(_ choice: ACMEProfileChoice, offered: [String: String]) throws -> String? {
        guard !offered.isEmpty else { return nil }
        switch choice {
        case .noProfile:
            return nil
        case .tlsServerIfOffered:
            return offered["tlsserver"] != nil ? "tlsserver" : nil
        case .named(let wanted):
            guard offered[wanted] != nil else {
                let names = offered.keys.sorted().joined(separator: ", ")
                throw SSLMError(
                    .configInvalid,
                    "ca_preferred_acme_profile '\(wanted)' is not offered by the CA (it offers \(names))")
            }
            return wanted
        }
    }

    /// `'…'` for the remote shell ssh starts (paths from the config and base64url tokens).
    static func shellQuoted(_ word: String) -> String {
        "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
