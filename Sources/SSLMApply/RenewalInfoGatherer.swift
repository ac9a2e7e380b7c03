import Foundation
import Logging
import SSLMACME
import SSLMConfig
import SSLMCore
import SSLMPKI
import X509

/// Asks the ACME CAs for the suggested renewal window (ARI, RFC 9773) of every observed curr certificate
/// they issued, for the planner (`Observation.renewalWindows`).
///
/// Answers are cached in `<topdir>/.sslm/acme/renewal-info.json` and asked again only after the CA's
/// `Retry-After` (at most 24 h, default 6 h) or when curr changed, so an hourly cron run does not ask the
/// CA every time. Only a writing run (`writeCache`: `apply`, `sslm-mgr`) stores answers; `sslm plan` reads
/// the cache and asks for what is missing or due without storing it. A CA without `renewalInfo` in its directory, or one that does not answer, is skipped (the
/// planner then uses `[renew_info]`); the reason is logged, never fatal.
public enum RenewalInfoGatherer {
    struct CacheEntry: Codable {
        var serialHex: String
        var directoryURL: String
        var window: RenewalWindow?
        /// Wall-clock time after which the entry is asked again.
        var refreshAfter: Date
    }

    public static func gather(
        config: Config, observation: Observation, staging: Bool, logger: Logger, limits: ACMELimits = ACMELimits(),
        writeCache: Bool
    ) async -> [String: RenewalWindow] {
        let cachePath = StateDirectory.path(topdir: config.topdir) + "/acme/renewal-info.json"
        var cache =
            (try? BoundedFile.read(cachePath, limit: .state, followLinks: false)).flatMap {
                try? decoder.decode([String: CacheEntry].self, from: Data($0))
            } ?? [:]
        var windows: [String: RenewalWindow] = [:]
        var changed = false
        var clients: [String: ACMEClient] = [:]
        let wallClock = Date()
        for state in observation.services {
            guard let service = config.service(state.address), case .authority(let name) = service.signer,
                let settings = config.certificateAuthorities[name]?.acme,
                let curr = state.dbDir(state.curr), let facts = curr.certificate
            else { continue }
            let id = state.address.description
            let directoryURL = staging ? (settings.stagingDirectoryURL ?? settings.directoryURL) : settings.directoryURL
            if let entry = cache[id], entry.serialHex == facts.serialHex, entry.directoryURL == directoryURL,
                entry.refreshAfter > wallClock
            {
                if let window = entry.window { windows[id] = window }
                continue
            }
            do {
                let client: ACMEClient
                if let existing = clients[directoryURL] {
                    client = existing
                } else {
                    client = try ACMEClient(
                        directoryURL: directoryURL, trustFile: settings.trustFile, logger: logger,
                        limits: limits)
                    clients[directoryURL] = client
                }
                let path = "\(config.topdir)/certs/\(state.address.group)/\(state.address.service)/curr/cert.pem"
                guard
                    let block = try PEMBlock.parseAll(try FileBytes.read(path), file: path)
                        .first(where: { $0.label == "CERTIFICATE" })
                else { continue }
                let certificate = try Certificate(derEncoded: block.derBytes)
                let info = try await client.renewalInfo(for: certificate)
                var entry = CacheEntry(
                    serialHex: facts.serialHex, directoryURL: directoryURL, window: nil,
                    refreshAfter: wallClock.addingTimeInterval(6 * 3600))
                if let info {
                    let window = RenewalWindow(
                        serialHex: facts.serialHex, start: info.windowStart, end: info.windowEnd,
                        explanationURL: info.explanationURL)
                    entry.window = window
                    windows[id] = window
                    if let retry = info.retryAfter {
                        entry.refreshAfter = wallClock.addingTimeInterval(Double(min(max(60, retry), 24 * 3600)))
                    }
                }
                cache[id] = entry
                changed = true
            } catch {
                logger.notice("renewal information (ARI) of \(id) not available: \(error); using [renew_info]")
            }
        }
        if writeCache, changed, let data = try? encoder.encode(cache) {
            do {
                try FileOps.makeDirectories(StateDirectory.path(topdir: config.topdir) + "/acme", root: config.topdir)
                try AtomicFile.write(data, to: cachePath, mode: 0o644, root: config.topdir)
            } catch {
                logger.notice("cannot write \(cachePath): \(error)")
            }
        }
        return windows
    }

    private static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }

    private static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }
}
