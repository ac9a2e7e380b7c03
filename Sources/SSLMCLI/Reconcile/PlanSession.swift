import Foundation
import SSLMConfig
import SSLMCore
import SSLMDNS
import SSLMObserve
import SSLMPlan

/// Everything `plan`, `apply` and `status` share: the topdir, the config, the chosen services, the
/// DNS facts, the observation and "now".
struct PlanSession {
    let topdir: String
    let config: Config
    /// The services this run acts on, in order; nil = every service of the active groups.
    let targets: [ServiceAddress]?
    let targetSpecs: [String]
    let observation: Observation
    let now: Date

    /// Loads and observes. Throws `CLIError` after printing diagnostics.
    static func open(global: GlobalOptions, targetArguments: [String], now nowOption: String?,
                     gatherDNS: Bool = true) throws -> PlanSession {
        var specs: [TargetSpec] = []
        for argument in targetArguments {
            switch TargetSpec.parse(argument) {
            case .success(let spec): specs.append(spec)
            case .failure(let error): throw CLIError(error.message)
            }
        }
        let now = try RunClock.now(option: nowOption)
        let extra = specs.flatMap { spec in
            (spec.services ?? ["*"]).map { ServiceAddress(group: spec.group, service: $0) }
        }
        let config = try ConfigSession.load(global, extraTargets: extra)
        var targets: [ServiceAddress]?
        if !specs.isEmpty {
            var list: [ServiceAddress] = []
            for spec in specs {
                let names = spec.services ?? (config.groups.first { $0.domain == spec.group }?.services ?? [])
                for name in names {
                    let address = ServiceAddress(group: spec.group, service: name)
                    if !list.contains(address) { list.append(address) }
                }
            }
            targets = list
        }
        let services = targets ?? config.activeServices
        let apexes = Array(Set(services.map(\.group))).sorted()
        let dns = gatherDNS ? DNSFactsGatherer.gather(config: config, apexes: apexes) : []
        let observation = Observer.observe(config: config, services: services, dns: dns,
                                           localHostNames: LocalHost.names())
        return PlanSession(topdir: config.topdir, config: config, targets: targets,
                           targetSpecs: specs.map(\.description), observation: observation, now: now)
    }

    func plan(_ options: PlanningOptions) throws -> Plan {
        guard let phase = Phase(rawValue: options.phase) else {
            throw CLIError("--phase: \"\(options.phase)\" is not one of renew, roll, all")
        }
        if let minutes = options.minRollMinutes, minutes < 0 {
            throw CLIError("--min-roll-mins: expected 0 or more minutes, found \(minutes)")
        }
        return Planner.plan(PlanningRequest(
            config: config, observation: observation, now: now, targets: targets, targetSpecs: targetSpecs,
            phase: phase, force: options.force, reuseKey: options.reuseKey, minRollMinutes: options.minRollMinutes))
    }
}

/// The names under which this machine is local for server tables.
enum LocalHost {
    static func names() -> [String] {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return [] }
        let full = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let short = full.split(separator: ".").first.map(String.init) ?? full
        return Array(Set([full, short].filter { !$0.isEmpty })).sorted()
    }
}
