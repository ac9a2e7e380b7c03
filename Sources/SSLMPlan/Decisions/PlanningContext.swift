import Foundation
import SSLMConfig
import SSLMCore

/// The read-only inputs of one planning run: the request, with `min_roll_mins` clamped, and the helpers
/// reasons share. Every decision is a pure function of a context and of the decisions made before it.
struct PlanningContext {
    let request: PlanningRequest
    /// `min_roll_mins` of this run: the request's override or the config's, clamped to its range.
    let minRollMinutes: Int
    /// Local CAs by the subject of their current certificate (`IssuerExpectation`), once per run.
    let localCASubjects: [String: String]

    var config: Config { request.config }
    var observation: Observation { request.observation }

    init(request: PlanningRequest) {
        self.request = request
        // Clamped: the config and the command line validate the range; a request built in code may not.
        let range = ConfigLimits.minRollMinutes
        self.minRollMinutes = min(
            max(
                request.minRollMinutes ?? request.config.globals.minRollMinutes,
                range.lowerBound), range.upperBound)
        self.localCASubjects = Self.localCASubjects(config: request.config, observation: request.observation)
    }

    /// The subject of each local CA's current certificate → the CA's name.
    private static func localCASubjects(config: Config, observation: Observation) -> [String: String] {
        var subjects: [String: String] = [:]
        for (name, ca) in config.certificateAuthorities where ca.isLocal {
            let state = observation.service(ca.localAddress)
            if let subject = state.flatMap({ $0.dbDir($0.curr) })?.certificate?.subject { subjects[subject] = name }
        }
        return subjects
    }

    /// Targets (or active services), local CAs before the services they sign.
    func orderedServices() -> [ServiceAddress] {
        let base = orderedUnique(request.targets ?? config.activeServices)
        func depth(_ address: ServiceAddress, _ seen: Set<ServiceAddress>) -> Int {
            guard let service = config.service(address), case .authority(let name) = service.signer,
                let ca = config.certificateAuthorities[name], ca.isLocal, !seen.contains(ca.localAddress)
            else { return 0 }
            return 1 + depth(ca.localAddress, seen.union([address]))
        }
        // Each depth once (the comparator asked for two per comparison).
        let depths = base.map { depth($0, []) }
        return base.indices.sorted { a, b in
            depths[a] != depths[b] ? depths[a] < depths[b] : a < b
        }.map { base[$0] }
    }

    /// The apexes of `services` in first-seen order, without the local CAs' group.
    func apexes(of services: [ServiceAddress]) -> [String] {
        orderedUnique(services.map(\.group)).filter { $0.lowercased() != GroupConfig.caGroup }
    }

    /// A path as shown in reasons: relative to the topdir when inside it, so plans do not depend on
    /// where the topdir is.
    func display(_ path: String) -> String {
        let prefix = config.topdir.hasSuffix("/") ? config.topdir : config.topdir + "/"
        return path.hasPrefix(prefix) ? String(path.dropFirst(prefix.count)) : path
    }

    /// Whether a server host is this machine (production is not copied to it).
    func isLocal(_ host: String) -> Bool {
        let lower = host.lowercased()
        return lower == "localhost" || observation.localHostNames.contains { $0.lowercased() == lower }
    }
}

/// Elements in first-seen order without repeats.
func orderedUnique<T: Hashable>(_ items: [T]) -> [T] {
    var seen: Set<T> = []
    return items.filter { seen.insert($0).inserted }
}
