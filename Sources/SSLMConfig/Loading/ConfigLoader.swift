import Foundation
import SSLMCore

/// The outcome of loading a topdir's configuration: a `Config` when there were no errors, and every
/// diagnostic (errors and warnings) of the load, in the order found.
public struct ConfigLoadResult: Sendable {
    public var config: Config?
    public var diagnostics: [Diagnostic]
    /// The parsed-config cache this load used (`ConfigCache`); a run holding the writer lock writes it.
    public var cache: ConfigCache?
}

/// Loads and validates `conf.d/` of a topdir.
///
/// Reads `ssl-mgr.conf`, `ca-info.conf`, the service files of every `[[groups]]` entry and the service
/// files of the local CAs, then checks what spans files (signing CAs exist, signers have `[CA]`, what
/// dns-01, http-01 and DANE need is configured). Never traps on any input; reports all problems at once.
/// Reads files only; writes nothing.
public enum ConfigLoader {
    /// Loads the configuration of `topdir` (the directory that contains `conf.d`).
    /// - Parameter extraTargets: services named on the command line that need not be in `[[groups]]`
    ///   (ssl-mgr allows them); service `*` means every service file of that group.
    /// - Parameter cache: whether service files are looked up in `.sslm/config-cache` (`ConfigCache`), and
    ///   whether this load's entries are kept for a write.
    public static func load(topdir: String, extraTargets: [ServiceAddress] = [], cache: ConfigCache.Use = .off)
        -> ConfigLoadResult
    {
        let sink = DiagnosticSink()
        let paths = PathResolver(topdir: topdir)
        var files = ConfigFiles(topdir: topdir, sink: sink)

        guard files.isDirectory("conf.d") else {
            sink.error("conf.d", nil, nil, "not a directory in \(topdir)")
            return ConfigLoadResult(config: nil, diagnostics: sink.diagnostics)
        }
        var main = MainConfig(
            globals: Globals(prodCertDir: "", logDir: "", dnsExtraNameservers: []),
            renewInfo: .builtin)
        if files.exists(MainConfigParser.file) {
            if let document = files.document(MainConfigParser.file) {
                main = MainConfigParser(sink: sink, paths: paths).parse(document)
            }
        } else {
            sink.error(MainConfigParser.file, nil, nil, "missing (every topdir needs conf.d/ssl-mgr.conf)")
        }
        var authorities: [String: CertificateAuthority] = [:]
        if files.exists(CAInfoParser.file), let document = files.document(CAInfoParser.file) {
            authorities = CAInfoParser(sink: sink, paths: paths).parse(document)
        }

        // Groups: expand discovery, then load every service file.
        var groups: [GroupConfig] = []
        var services: [ServiceAddress: ParsedService] = [:]
        var missing: Set<ServiceAddress> = []
        // Service files are read and parsed in parallel first (thousands of files on a big installation),
        // then checked in config order, so diagnostics keep their order.
        var requests: [(address: ServiceAddress, requiredBy: String, table: String?, key: String?)] = []
        func loadService(_ address: ServiceAddress, requiredBy: String, table: String?, key: String?) {
            requests.append((address, requiredBy, table, key))
        }
        var entries = main.groups
        for target in extraTargets where !entries.contains(where: { $0.domain == target.group }) {
            entries.append(
                .init(
                    domain: target.group, services: target.service == "*" ? nil : [],
                    active: false, table: "command line"))
        }
        for entry in entries {
            let directory = "conf.d/\(entry.domain)"
            guard files.isDirectory(directory) else {
                if entry.active || entry.table == "command line" {
                    sink.error(
                        MainConfigParser.file, entry.table, "domain", "the group directory \(directory) does not exist")
                } else {
                    sink.warning(
                        MainConfigParser.file, entry.table, "domain",
                        "the group directory \(directory) does not exist (group is not active)")
                }
                continue
            }
            var names: [String]
            if let listed = entry.services {
                names = listed
            } else {
                names = ServiceDiscovery.services(inGroupDirectory: files.absolute(directory))
                if names.isEmpty {
                    sink.warning(
                        MainConfigParser.file, entry.table, "services",
                        "'*' found no service files in \(directory)")
                }
            }
            for target in extraTargets
            where target.group == entry.domain && target.service != "*" && !names.contains(target.service) {
                names.append(target.service)
            }
            for name in names {
                loadService(
                    ServiceAddress(group: entry.domain, service: name),
                    requiredBy: MainConfigParser.file, table: entry.table, key: "services")
            }
            groups.append(
                GroupConfig(
                    domain: entry.domain, services: names, discovered: entry.services == nil,
                    active: entry.active))
        }
        // Local CAs need their own service files, whether or not group `ca` is listed.
        for name in authorities.keys.sorted() {
            guard let ca = authorities[name], ca.isLocal else { continue }
            loadService(ca.localAddress, requiredBy: CAInfoParser.file, table: name, key: "ca_type")
        }

        var seen: Set<ServiceAddress> = []
        let unique = requests.filter { seen.insert($0.address).inserted }
        let confDir = files.absolute("conf.d")
        let renewInfo = main.renewInfo
        let configCache =
            cache == .off
            ? nil : ConfigCache.load(topdir: topdir, globalRenewInfo: renewInfo, recording: cache == .record)
        let loaded = ParallelMap.map(unique.map(\.address), minimumChunk: 32, makeContext: { () }) { _, address in
            ParsedServiceFile.load(
                confDir + "/\(address.group)/\(address.service)", address: address, globalRenewInfo: renewInfo,
                cache: configCache)
        }
        for (request, file) in zip(unique, loaded) {
            let address = request.address
            let display = "conf.d/\(address.group)/\(address.service)"
            if let problem = ServiceName.reservedProblem(address.service) {
                missing.insert(address)
                sink.error(request.requiredBy, request.table, request.key, problem)
                continue
            }
            // A file that was read exists; only an unread one needs the check.
            guard file.loaded.data != nil || files.exists(display) else {
                missing.insert(address)
                sink.error(request.requiredBy, request.table, request.key, "\(display) does not exist")
                continue
            }
            guard files.accept(file.loaded, display: display) != nil else {
                missing.insert(address)
                continue
            }
            file.diagnostics.forEach(sink.add)
            if let parsed = file.parsed {
                services[address] = parsed
            } else {
                missing.insert(address)
            }
        }

        CrossChecks(sink: sink, main: main, authorities: authorities, services: services, missing: missing).run()

        let errors = sink.diagnostics.hasErrors
        var config =
            errors
            ? nil
            : Config(
                topdir: topdir, globals: main.globals, renewInfo: main.renewInfo, groups: groups,
                dnsPrimaries: main.dnsPrimaries, dnsNameservers: main.dnsNameservers, dns: main.dns,
                servers: main.servers, certificateAuthorities: authorities,
                services: services.mapValues(\.config), digest: files.digest)
        config?.hooks = main.hooks
        config?.notify = main.notify
        return ConfigLoadResult(config: config, diagnostics: sink.diagnostics, cache: configCache)
    }
}

/// A service file read, parsed as TOML and as a service on a worker thread, with the diagnostics of the
/// service parse kept apart, so the loader reports them in config order as if parsed there.
struct ParsedServiceFile: Sendable {
    var loaded: ConfigFiles.Loaded
    var parsed: ParsedService?
    var diagnostics: [Diagnostic]

    /// Reads and parses `path`; no side effects but the cache's counters and kept entries. A file whose
    /// bytes the cache knows is not parsed; a clean parse (no diagnostic at all) is offered to the cache.
    static func load(_ path: String, address: ServiceAddress, globalRenewInfo: RenewInfo, cache: ConfigCache?)
        -> ParsedServiceFile
    {
        let data: Data
        switch ConfigFiles.read(path) {
        case .success(let read): data = read
        case .failure(let problem):
            return ParsedServiceFile(
                loaded: ConfigFiles.Loaded(data: nil, result: .failure(problem)), parsed: nil, diagnostics: [])
        }
        let key = address.group + "/" + address.service
        let digest = cache.map { _ in ContentDigest.sha256Hex(data) }
        if let cache, let digest, let parsed = cache.parsed(key, digest: digest) {
            return ParsedServiceFile(
                loaded: ConfigFiles.Loaded(data: data, result: .success([:])), parsed: parsed, diagnostics: [])
        }
        let loaded = ConfigFiles.parse(data)
        guard case .success(let document) = loaded.result else {
            return ParsedServiceFile(loaded: loaded, parsed: nil, diagnostics: [])
        }
        let sink = DiagnosticSink()
        let parsed = ServiceParser(sink: sink, globalRenewInfo: globalRenewInfo).parse(document, address: address)
        if let cache, let digest, let parsed, sink.diagnostics.isEmpty, loaded.controlCharacters.isEmpty {
            cache.store(parsed, key: key, digest: digest)
        }
        return ParsedServiceFile(loaded: loaded, parsed: parsed, diagnostics: sink.diagnostics)
    }
}
