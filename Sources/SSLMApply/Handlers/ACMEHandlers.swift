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

/// Handlers of ACME issuing: acme_order, publish_challenges, await_propagation, answer_challenges,
/// finalize_order (`refresh_dns` is shared with the TLSA refresh).
///
/// The order of each service is kept in `ACMERunState`; when an action runs in a later process than the
/// `acme_order` that opened the order (a resumed run), the order is fetched again from the URL the journal
/// recorded. Nothing here writes outside `next/`, `[dns] acme_dir`, `[web] server_dir/<apex>` and
/// `<topdir>/.sslm/acme`.
extension ApplyRun {
    // MARK: acme_order

    /// Opens (or resumes) the order of the service's `next/csr.pem` and learns its challenges.
    func acmeOrder(_ action: Action, _ request: ActionPayload.ACMEOrderRequest, logger: Logger) async throws
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
            let profile = try Self.chooseProfile(settings: settings, offered: directory.profiles, service: service)
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

    /// The challenge of the configured type of every authorization that is not valid yet.
    private func learnChallenges(
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

    // MARK: publish_challenges

    /// dns-01: `<acme_dir>/acme-challenge.<apex>` with every challenge of the services, in one write (or
    /// emptied, with `clear`). http-01: the token files under `[web] server_dir/<apex>/.well-known/acme-challenge/`
    /// on this host when `[web] servers` is empty or names it, and copied to the other web servers (or
    /// removed, with `clear`).
    func publishChallenges(
        apex: String, type: ACMEChallengeType, services: [ServiceAddress], clear: Bool, logger: Logger
    ) async throws -> String? {
        let apex = try checked(apex: apex)
        var challenges: [PendingChallenge] = []
        for address in services {
            // Clearing after a failed order still removes what the run published.
            guard let open = clear ? await acme.order(for: address) : try await ensureOrder(address, logger: logger)
            else { continue }
            challenges += open.challenges
        }
        if type == .dns01 {
            return try publishDNSChallenges(apex: apex, challenges: clear ? [] : challenges)
        }
        return try await publishHTTPChallenges(apex: apex, challenges: challenges, clear: clear, logger: logger)
    }

    private func publishDNSChallenges(apex: String, challenges: [PendingChallenge]) throws -> String? {
        guard !config.dns.acmeDirs.isEmpty else {
            throw SSLMError(
                .configInvalid, "[dns] acme_dir is not set: dns-01 challenges of \(apex) have nowhere to go")
        }
        let records = challenges.map { ACMEChallengeRecord(domain: $0.identifier, value: $0.value) }
        let text = ACMEChallengeZoneFile.render(apex: apex, records: records)
        for directory in config.dns.acmeDirs {
            try FileOps.makeDirectories(directory, root: directory)
            try AtomicFile.write(
                text: text, to: directory + "/acme-challenge." + apex, mode: AtomicFile.publicMode, root: directory)
        }
        let whereTo = config.dns.acmeDirs.map { display($0) + "/acme-challenge." + apex }.joined(separator: ", ")
        return records.isEmpty ? "emptied \(whereTo)" : "\(records.count) challenges in \(whereTo)"
    }

    private func publishHTTPChallenges(
        apex: String, challenges: [PendingChallenge], clear: Bool, logger: Logger
    ) async throws -> String? {
        guard let web = config.web, let serverDir = web.serverDir, !serverDir.isEmpty else {
            throw SSLMError(.configInvalid, "[web] server_dir is not set: http-01 tokens of \(apex) have nowhere to go")
        }
        let relative = "/\(apex)/.well-known/acme-challenge"
        let webDirectory = serverDir + relative
        let local = web.servers.isEmpty || web.servers.contains(where: isLocal)
        let remote = web.servers.filter { !isLocal($0) }
        // Tokens are base64url (checked by SSLMACME); checked again here because they become file names.
        for challenge in challenges where !SafeName.isBase64URL(challenge.challenge.token) {
            throw SSLMError(
                .malformedInput,
                "ACME token \"\(SafeName.printable(challenge.challenge.token))\" is not base64url: refused")
        }
        if clear {
            if local {
                for challenge in challenges { unlink(webDirectory + "/" + challenge.challenge.token) }
            }
            for host in remote where !challenges.isEmpty {
                let argv =
                    DeployCommands.ssh(options.sshProgram, config: config.globals.sshConfig)
                    + [host, "rm", "-f", "--"]
                    + challenges.map { Self.shellQuoted(webDirectory + "/" + $0.challenge.token) }
                try await runCommand(argv, logger: logger)
            }
            return "removed \(challenges.count) tokens"
        }
        if local {
            try FileOps.makeDirectories(webDirectory, root: serverDir)
            for challenge in challenges {
                try AtomicFile.write(
                    text: challenge.value + "\n", to: webDirectory + "/" + challenge.challenge.token,
                    mode: AtomicFile.publicMode, root: serverDir)
            }
        }
        if !remote.isEmpty {
            // A staging copy under .sslm, rsync'ed to the same path on each web server (no --delete).
            let staging = try StateDirectory.ensure(topdir: topdir) + "/acme-http/" + apex
            try FileOps.makeDirectories(staging, root: topdir)
            for challenge in challenges {
                try AtomicFile.write(
                    text: challenge.value + "\n", to: staging + "/" + challenge.challenge.token,
                    mode: AtomicFile.publicMode, root: topdir)
            }
            let shell = try DeployCommands.rsyncRemoteShell(ssh: options.sshProgram, config: config.globals.sshConfig)
            for host in remote {
                try await runCommand(
                    [
                        options.rsyncProgram, "-a", "--mkpath", "-e", shell, staging + "/",
                        host + ":" + webDirectory + "/",
                    ],
                    logger: logger)
            }
        }
        let hosts = (local ? ["this host"] : []) + remote
        return "\(challenges.count) tokens under \(webDirectory) on \(hosts.joined(separator: ", "))"
    }

    // MARK: await_propagation

    /// Waits until the primary serves every TXT value of the apex's challenges and every nameserver (and
    /// `dns_xtra_ns`) serves the primary's serial or newer.
    func awaitPropagation(apex: String, logger: Logger) async throws -> String? {
        let apex = try checked(apex: apex)
        var records: [ACMEChallengeRecord] = []
        for issue in acmeServices(ofApex: apex, validation: .dns01) {
            if let open = try await ensureOrder(issue, logger: logger) {
                records += open.challenges.map { ACMEChallengeRecord(domain: $0.identifier, value: $0.value) }
            }
        }
        guard !records.isEmpty else { return "no challenge pending" }
        let target: PropagationTarget
        do {
            target = try PropagationTarget(apex: apex, config: config, expectedTXT: records)
        } catch {
            throw SSLMError(.configInvalid, "dns-01 propagation of \(apex): \(error.description)")
        }
        var settings = PropagationSettings(globals: config.globals)
        settings.timeoutSeconds = options.propagationTimeoutSeconds
        do {
            let report = try await PropagationCheck(settings: settings, logger: logger).await(target)
            return "serial \(report.primarySerial) on \(report.servers.count) servers after "
                + String(format: "%.2f s", report.elapsedSeconds)
        } catch let error as PropagationError {
            throw SSLMError(.ioFailure, "dns-01 propagation of \(apex): \(error.description)")
        }
    }

    // MARK: answer_challenges

    /// Tells the CA the challenges are ready and waits until every authorization is valid.
    func answerChallenges(_ action: Action, logger: Logger) async throws -> String? {
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

    // MARK: finalize_order

    /// Finalizes the order with `next/csr.pem`, downloads the chain (the preferred one when configured),
    /// checks it, and writes `next/cert.pem`, `chain.pem` and `fullchain.pem`.
    func finalizeOrder(_ action: Action, preferredChain: String?, logger: Logger) async throws -> String? {
        let (address, service) = try service(of: action)
        guard let open = try await ensureOrder(address, logger: logger) else {
            throw SSLMError(.ioFailure, "\(address): no open ACME order (acme_order did not run): make a new plan")
        }
        let (_, settings) = try acmeAuthority(of: service)
        let client = try await acmeClient(for: open, service: service, logger: logger)
        let next = try ServiceTree(topdir: topdir, address: address).required("next")
        let requestPath = next + "/" + CertificateFileSet.Name.request
        let request = try CertificateRequestBuilder.parse(
            pem: String(decoding: try FileBytes.read(requestPath), as: UTF8.self), file: requestPath)
        let key = try KeyPair.read(path: next + "/" + CertificateFileSet.Name.privateKey)
        guard key.matches(request.publicKey) else {
            throw SSLMError(.keyMismatch, "\(requestPath) was not made for next/privkey.pem: make a new plan")
        }
        var order = try await client.order(url: open.order.url)
        if order.status == "pending" {
            order = try await client.pollOrder(url: order.url, until: ["ready", "valid"])
        }
        if order.status == "ready" {
            var serializer = DER.Serializer()
            try serializer.serialize(request)
            order = try await client.finalize(order, csrDER: serializer.serializedBytes)
        }
        if order.status != "valid" {
            order = try await client.pollOrder(url: order.url, until: ["valid"])
        }
        guard let certificateURL = order.certificate else {
            throw SSLMError(.ioFailure, "order \(order.url) is valid but names no certificate")
        }
        let chain = try await client.downloadCertificate(
            url: certificateURL, preferredChain: preferredChain ?? settings.preferredChain)
        var spki = DER.Serializer()
        try spki.serialize(key.publicKey)
        do {
            try ACMEChainCheck.verify(chain, expectedPublicKeyDER: spki.serializedBytes, identifiers: service.sans)
        } catch {
            throw SSLMError(.verificationFailed, "the certificate from \(certificateURL) is refused: \(error)")
        }
        let blocks = try PEMBlock.parseAll(Array(chain.pem.utf8), file: certificateURL)
            .filter { $0.label == "CERTIFICATE" }
        guard let leaf = blocks.first, blocks.count >= 2 else {
            throw SSLMError(.malformedInput, "\(certificateURL) holds no chain (\(blocks.count) certificates)")
        }
        let leafPEM = leaf.pemText
        let chainPEM = blocks.dropFirst().map(\.pemText).joined()
        try CertificateFileSet.writeCertificates(
            certificatePEM: leafPEM, chainPEM: chainPEM, fullchainPEM: leafPEM + chainPEM, to: next,
            root: topdir)
        let top = chain.rootIssuerCommonName.map { " (chain to \($0))" } ?? ""
        return "issued by \(service.signer)\(top), \(blocks.count - 1) intermediate(s)"
    }

    // MARK: - Shared

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
    private func resumableOrder(actionId: String, csrDigest: String) -> String? {
        guard let detail = recordedOrders[actionId], let parsed = OpenOrder.parse(detail: detail),
            parsed.csrDigest == csrDigest
        else { return nil }
        return parsed.orderURL
    }

    private func currentCSRDigest(_ address: ServiceAddress) throws -> String {
        let next = try ServiceTree(topdir: topdir, address: address).required("next")
        return ContentDigest.labelled(try FileBytes.read(next + "/" + CertificateFileSet.Name.request))
    }

    /// RFC 9773 CertID of `curr/cert.pem`.
    private func currentCertificateID(_ address: ServiceAddress) throws -> String {
        let curr = try ServiceTree(topdir: topdir, address: address).required("curr")
        let path = curr + "/" + CertificateFileSet.Name.certificate
        guard let block = try PEMBlock.parseAll(try FileBytes.read(path), file: path).first else {
            throw SSLMError(.malformedInput, "\(path) holds no certificate")
        }
        return try ACMEClient.ariCertID(try Certificate(derEncoded: block.derBytes))
    }

    private func acmeAuthority(of service: ServiceConfig) throws -> (CertificateAuthority, ACMESettings) {
        guard case .authority(let name) = service.signer, let authority = config.certificateAuthorities[name],
            let settings = authority.acme
        else {
            throw SSLMError(.configInvalid, "\(service.file): signing_ca \(service.signer) is not an ACME CA")
        }
        return (authority, settings)
    }

    private func acmeClient(
        directoryURL: String, service: ServiceConfig, settings: ACMESettings, logger: Logger
    ) async throws -> ACMEClient {
        let (authority, _) = try acmeAuthority(of: service)
        let accounts = try StateDirectory.ensure(topdir: topdir) + "/acme/accounts"
        return try await acme.client(
            directoryURL: directoryURL, authority: authority, settings: settings, email: service.subject.email,
            accountsDirectory: accounts, logger: logger, limits: options.acmeLimits)
    }

    private func acmeClient(for open: OpenOrder, service: ServiceConfig, logger: Logger) async throws -> ACMEClient {
        let (_, settings) = try acmeAuthority(of: service)
        return try await acmeClient(
            directoryURL: open.directoryURL, service: service, settings: settings,
            logger: logger)
    }

    /// The services of this run's plan that validate `validation` under `apex`: those of the publish action
    /// of the same batch.
    private func acmeServices(ofApex apex: String, validation: ACMEChallengeType) -> [ServiceAddress] {
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

    /// The profile to request: the configured one (an error when the CA does not list it), else
    /// `tlsserver` when listed; none when the CA lists no profiles.
    static func chooseProfile(settings: ACMESettings, offered: [String: String], service: ServiceConfig) throws
        -> String?
    {
        guard !offered.isEmpty else { return nil }
        if let wanted = settings.preferredProfile, !wanted.isEmpty {
            guard offered[wanted] != nil else {
                throw SSLMError(
                    .configInvalid,
                    "ca_preferred_acme_profile '\(wanted)' is not offered by the CA (it offers \(offered.keys.sorted().joined(separator: ", ")))"
                )
            }
            return wanted
        }
        return offered["tlsserver"] != nil ? "tlsserver" : nil
    }

    /// `'…'` for the remote shell ssh starts (paths from the config and base64url tokens).
    static func shellQuoted(_ word: String) -> String {
        "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
