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

/// `await_propagation`: waits until every nameserver of an apex serves its dns-01 challenges.
struct AwaitPropagationHandler: ActionHandler {
    static let kind = ActionKind.awaitPropagation

    static func payload(of payload: ActionPayload) throws -> String {
        guard case .awaitPropagation(let apex) = payload else { throw mismatch(payload) }
        return apex
    }

    func perform(_ apex: String, of action: Action, in context: ActionContext) async throws -> String? {
        try await context.run.awaitPropagation(apex: apex, logger: context.logger)
    }
}

extension ApplyRun {
    /// Waits until the primary serves every TXT value of the apex's challenges and every nameserver (and
    /// `dns_xtra_ns`) serves the primary's serial or newer.
    fileprivate func awaitPropagation(apex: String, logger: Logger) async throws -> String? {
        let apex = try checked(apex: apex)
        var records: [ACMEChallengeRecord] = []
        for issue in acmeServices(ofApex: apex, validation: .dns01) {
            if let open = try await ensureOrder(issue, logger: logger) {
                records += open.challenges.map { ACMEChallengeRecord(domain: $0.identifier, value: $0.value) }
            }
        }
        guard !records.isEmpty else { return "no challenge pending" }
        if !followsChallengeDelegation && updateMethod(of: apex) == .include {
            return try await awaitPropagation(zone: apex, records: records, logger: logger)
        }
        // Delegated challenges are checked in the zone that got them (the CNAME target's).
        let located = try await delegated(records, apex: apex, logger: logger)
        var byZone: [String: [ACMEChallengeRecord]] = [:]
        for record in located { byZone[zone(of: record.ownerName, fallback: apex), default: []].append(record) }
        if byZone.keys.contains(where: { updateMethod(of: $0) == .include }) || byZone.isEmpty {
            // Records in include-file zones live in the apex's file: checked in the apex as before.
            let include = byZone.filter { updateMethod(of: $0.key) == .include }.flatMap(\.value)
            byZone = byZone.filter { updateMethod(of: $0.key) != .include }
            byZone[apex, default: []] += include
        }
        var summaries: [String] = []
        for zone in byZone.keys.sorted() {
            summaries.append(
                zone + ": " + (try await awaitPropagation(zone: zone, records: byZone[zone] ?? [], logger: logger)))
        }
        return summaries.joined(separator: "; ")
    }

    private func awaitPropagation(zone apex: String, records: [ACMEChallengeRecord], logger: Logger) async throws
        -> String
    {
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
}
