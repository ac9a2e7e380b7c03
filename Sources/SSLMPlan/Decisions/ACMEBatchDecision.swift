import SSLMConfig
import SSLMCore

/// The apex actions of this run's ACME issuance: per apex and challenge type one batch (publish the
/// challenges, then clear them; for dns-01 await the propagation, with one DNS refresh for every apex
/// before and one after), and the challenge files an earlier run left filled.
struct ACMEBatchDecision {
    /// The services of one apex that answer one challenge type in this run.
    struct Batch {
        var apex: String
        var validation: ACMESettings.Validation
        var services: [ServiceAddress]
        /// dns-01 in a zone sslm changes itself (rfc2136, exec): how (`ZoneUpdateMethod.phrase`); nil for
        /// include files.
        var sentBy: String?
    }

    /// The dns-01 apexes (batches and leftovers) whose zone sslm changes itself, and how; the others use
    /// include files and `[dns] restart_cmd`.
    var sentBy: [String: String] = [:]

    /// Apexes whose `acme-challenge` file an earlier run left filled (it stopped before its cleanup).
    var leftoverApexes: [String] = []
    /// Whether DNS is refreshed after the leftovers are emptied (no dns-01 issuance refreshes it anyway).
    var refreshAfterLeftovers = false
    /// http-01 batches first, then dns-01; apexes in service order.
    var batches: [Batch] = []

    /// The apexes of the dns-01 batches, in order.
    var dnsApexes: [String] { batches.filter { $0.validation == .dns01 }.map(\.apex) }

    static func decide(_ decisions: [ServiceDecision], context: PlanningContext) -> ACMEBatchDecision {
        let issues = decisions.compactMap { decision in
            decision.build?.acmeValidation.map { (address: decision.address, validation: $0) }
        }
        var result = ACMEBatchDecision()
        let busy = Set(issues.filter { $0.validation == .dns01 }.map(\.address.group))
        result.leftoverApexes = (context.observation.acmeChallengeLeftovers ?? []).filter { !busy.contains($0) }
            .sorted()
        for apex in result.leftoverApexes {
            if let sentBy = ZoneUpdateMethod.phrase(apex, config: context.config) { result.sentBy[apex] = sentBy }
        }
        result.refreshAfterLeftovers =
            !result.leftoverApexes.isEmpty && !context.config.dns.restartCommands.isEmpty
            && issues.allSatisfy { $0.validation != .dns01 }
        let apexes = orderedUnique(issues.map(\.address.group))
        for validation in [ACMESettings.Validation.http01, .dns01] {
            for apex in apexes {
                let services = issues.filter { $0.address.group == apex && $0.validation == validation }
                guard !services.isEmpty else { continue }
                let sentBy = validation == .dns01 ? ZoneUpdateMethod.phrase(apex, config: context.config) : nil
                result.batches.append(
                    Batch(apex: apex, validation: validation, services: services.map(\.address), sentBy: sentBy))
                if let sentBy { result.sentBy[apex] = sentBy }
            }
        }
        return result
    }
}
