import Foundation
import Logging
import SSLMConfig
import SSLMCore
import SSLMDNS
import SSLMDeploy
import SSLMPlan

/// How the handlers that change DNS data (`publish_challenges`, `publish_tlsa`) reach a zone whose
/// `[[dns_primary]] update` is `rfc2136` or `exec`: one `DNSZoneChange` per zone and operation, sent as
/// one TSIG-signed UPDATE (`DNSUpdateClient`) or handed to the provider program as one JSON document
/// (`DNSProviderRequest`) on stdin. Include-file zones never come here: their handlers write files and
/// `refresh_dns` runs `[dns] restart_cmd`.
///
/// Sending again is harmless (adding a present record and deleting an absent one change nothing), which is
/// what makes a resumed action safe. Failures are `SSLMError`s whose sentence names the server (or the
/// program), the zone and the key's name, never its secret.
extension ApplyRun {
    /// The `update` method of `zone`'s `[[dns_primary]]` (its own entry, else `default`); `include` without one.
    func updateMethod(of zone: String) -> DNSUpdateMethod {
        config.dnsPrimary(for: zone)?.update ?? .include
    }

    /// Applies `change` through its zone's method and returns a one-line summary for the journal.
    func sendZoneChange(_ change: DNSZoneChange, logger: Logger) async throws -> String {
        guard !change.isEmpty else { return "\(change.zone): nothing to change" }
        guard let primary = config.dnsPrimary(for: change.zone) else {
            throw SSLMError(
                .configInvalid, "no [[dns_primary]] for \(change.zone) and no default entry: cannot change its records")
        }
        switch primary.update {
        case .include:
            throw SSLMError(
                .configInvalid,
                "zone \(change.zone) is changed through include files (update = 'include'); its records cannot be sent")
        case .rfc2136(let key):
            return try await sendUpdate(change, primary: primary, key: key, logger: logger)
        case .exec(let argv):
            return try await runProvider(change, argv: argv, logger: logger)
        }
    }

    private func sendUpdate(_ change: DNSZoneChange, primary: DNSPrimary, key: TSIGKey, logger: Logger) async throws
        -> String
    {
        let context = "DNS UPDATE of zone \(change.zone) at \(primary.server) with TSIG key \"\(key.name)\""
        let server: NameserverAddress
        switch await Self.resolve(primary.server, config: config) {
        case .success(let found):
            guard let first = found.first else {
                throw SSLMError(.ioFailure, "\(context): the server \(primary.server) has no address")
            }
            server = first
        case .failure(let error):
            throw SSLMError(.ioFailure, "\(context): \(error.message)")
        }
        let client = DNSUpdateClient(logger: logger, timeoutSeconds: options.dnsUpdateTimeoutSeconds)
        switch await client.send(change, to: server, key: key) {
        case .success(let report):
            return report.description
        case .failure(let error):
            throw SSLMError(.ioFailure, error.message + "; nothing else was changed, and the next run sends it again")
        }
    }

    private func runProvider(_ change: DNSZoneChange, argv: [String], logger: Logger) async throws -> String {
        var done: [String] = []
        for request in DNSProviderRequest.requests(for: change) {
            let what =
                "DNS provider \(argv.first ?? "") (\(request.operation.rawValue) of \(request.records.count) "
                + "records in zone \(request.zone))"
            do {
                try await run(
                    argv, timeout: options.commandTimeout, logger: logger, input: request.json,
                    explain: { result in
                        let tail = result.output.split(separator: "\n").suffix(3).joined(separator: " | ")
                        return "\(result.failureReason.map { String($0.prefix(80)) } ?? "failed")"
                            + (tail.isEmpty ? "" : "; its last output: \(tail.prefix(600))")
                    })
            } catch let error as SSLMError {
                throw SSLMError(
                    .ioFailure, "\(what) failed: \(error.message); the next run asks it again with the same records")
            }
            done.append("\(request.operation.rawValue) \(request.records.count)")
        }
        return "\(change.zone) by \(argv.first ?? ""): " + done.joined(separator: ", ")
    }

    /// `NameserverResolution` off the cooperative pool (its lookups block).
    static func resolve(_ server: NameserverAddress, config: Config) async
        -> Result<[NameserverAddress], DNSLookupError>
    {
        await ConcurrentMap.offPool { NameserverResolution().resolve(server, config: config) }
    }
}
