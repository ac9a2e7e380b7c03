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

/// `publish_challenges`: the challenges of an apex's orders published (or removed, with `clear`).
struct PublishChallengesHandler: ActionHandler {
    static let kind = ActionKind.publishChallenges

    struct Payload {
        var apex: String
        var type: ACMEChallengeType
        var services: [ServiceAddress]
        var clear: Bool
    }

    static func payload(of payload: ActionPayload) throws -> Payload {
        guard case .publishChallenges(let apex, let type, let services, let clear) = payload else {
            throw mismatch(payload)
        }
        return Payload(apex: apex, type: type, services: services, clear: clear)
    }

    func perform(_ payload: Payload, of action: Action, in context: ActionContext) async throws -> String? {
        try await context.run.publishChallenges(
            apex: payload.apex, type: payload.type, services: payload.services, clear: payload.clear,
            logger: context.logger)
    }
}

extension ApplyRun {
    /// dns-01: `<acme_dir>/acme-challenge.<apex>` with every challenge of the services, in one write (or
    /// emptied, with `clear`). http-01: the token files under `[web] server_dir/<apex>/.well-known/acme-challenge/`
    /// on this host when `[web] servers` is empty or names it, and copied to the other web servers (or
    /// removed, with `clear`).
    fileprivate func publishChallenges(
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
            let records = challenges.map { ACMEChallengeRecord(domain: $0.identifier, value: $0.value) }
            if !followsChallengeDelegation && updateMethod(of: apex) == .include {
                return try publishDNSChallenges(apex: apex, records: clear ? [] : records)
            }
            return try await clear
                ? clearSentChallenges(apex: apex, logger: logger)
                : publishSentChallenges(apex: apex, records: records, logger: logger)
        }
        return try await publishHTTPChallenges(apex: apex, challenges: challenges, clear: clear, logger: logger)
    }

    /// Zones changed by `rfc2136` or `exec` (and challenges delegated there by CNAME): the records are listed
    /// in `.sslm/dns/challenges.<apex>.json` first, then sent, one change per zone; the apex's include file
    /// (when its zone uses include files) gets the rest.
    private func publishSentChallenges(apex: String, records: [ACMEChallengeRecord], logger: Logger) async throws
        -> String?
    {
        let (include, sent) = placed(try await delegated(records, apex: apex, logger: logger), apex: apex)
        var summaries: [String] = []
        if updateMethod(of: apex) == .include, let written = try publishDNSChallenges(apex: apex, records: include) {
            summaries.append(written)
        }
        try recordChallenges(try recordedChallenges(apex: apex) + sent, apex: apex)
        summaries += try await sendChallenges(sent, delete: false, logger: logger)
        return summaries.joined(separator: "; ")
    }

    /// Deletes (by value) every record `.sslm/dns/challenges.<apex>.json` lists, one change per zone, then the
    /// list; empties the apex's include file when its zone uses include files.
    private func clearSentChallenges(apex: String, logger: Logger) async throws -> String? {
        var summaries: [String] = []
        if updateMethod(of: apex) == .include, let emptied = try publishDNSChallenges(apex: apex, records: []) {
            summaries.append(emptied)
        }
        let sent = try recordedChallenges(apex: apex)
        summaries += try await sendChallenges(sent, delete: true, logger: logger)
        try recordChallenges([], apex: apex)
        return summaries.isEmpty ? "no challenge records to delete" : summaries.joined(separator: "; ")
    }

    private func publishDNSChallenges(apex: String, records: [ACMEChallengeRecord]) throws -> String? {
        guard !config.dns.acmeDirs.isEmpty else {
            throw SSLMError(
                .configInvalid, "[dns] acme_dir is not set: dns-01 challenges of \(apex) have nowhere to go")
        }
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
}
