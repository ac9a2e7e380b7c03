import Foundation
import SSLMCore

/// What `ssl-mgr.conf` holds, before the services are loaded.
struct MainConfig {
    var globals: Globals
    var renewInfo: RenewInfo
    var groups: [GroupEntry] = []
    var dnsPrimaries: [DNSPrimary] = []
    var dnsNameservers: [DNSNameserverSet] = []
    var dns = DNSSettings()
    var servers: [ServerSection] = []
    var hooks = HookSettings()
    var notify = NotifySettings()

    /// A `[[groups]]` entry before discovery: `services == nil` means `'*'`/`'ALL'`.
    struct GroupEntry {
        var domain: String
        var services: [String]?
        var active: Bool
        var table: String
    }
}

/// Parses `conf.d/ssl-mgr.conf`.
extension MainConfig {
    /// Whether the zone of `apex` is changed through include files (its `[[dns_primary]]`, else the default
    /// entry, says `update = 'include'`, or there is none).
    func updatesThroughIncludeFiles(_ apex: String) -> Bool {
        let apex = apex.lowercased()
        let primary = dnsPrimaries.first { $0.domain == apex } ?? dnsPrimaries.last { $0.isDefault }
        return (primary?.update ?? .include) == .include
    }
}

struct MainConfigParser {
    static let file = "conf.d/ssl-mgr.conf"
    let sink: DiagnosticSink
    let paths: PathResolver

    private static let serverKeys: Set<String> = [
        "servers", "restart_cmd", "svc_depends", "depends", "server_dir", "skip_prod_copy", "restart_timeout",
    ]

    func parse(_ document: [String: TOMLNode]) -> MainConfig {
        let file = Self.file
        // Globals: the [globals] table, plus top-level scalars (ssl-mgr flattens both into one namespace).
        var globalValues: [String: TOMLNode] = [:]
        if let node = document["globals"] {
            if case .table(let table) = node {
                globalValues = table
            } else {
                sink.error(file, nil, "globals", "expected a table [globals], found \(node.typeName)")
            }
        }
        for (key, node) in document {
            switch node {
            case .table: continue
            case .array(let items)
            where !items.isEmpty && items.allSatisfy({ if case .table = $0 { true } else { false } }):
                continue
            default:
                if ["groups", "dns_primary", "dns_nameservers"].contains(key) { continue }
                if globalValues[key] != nil {
                    sink.error(file, nil, key, "set both at the top level and in [globals]; keep one")
                } else {
                    globalValues[key] = node
                }
            }
        }
        var renewInfo = RenewInfo.builtin
        var renewTargetsConfigured: Set<Double> = []
        var renewRandomConfigured: Set<Double> = []
        var renewKeys: [Double: String] = [:]
        if let node = document["renew_info"] {
            if case .table(let table) = node {
                parseRenewInfo(
                    table, into: &renewInfo, targets: &renewTargetsConfigured,
                    random: &renewRandomConfigured, keys: &renewKeys)
            } else {
                sink.error(file, nil, "renew_info", "expected a table [renew_info], found \(node.typeName)")
            }
        }
        let renewInfoBeforeGlobals = renewInfo
        let globals = parseGlobals(
            globalValues, renewInfo: &renewInfo, targetsConfigured: renewTargetsConfigured,
            randomConfigured: renewRandomConfigured)
        for lifetime in renewKeys.keys.sorted() {
            guard let key = renewKeys[lifetime],
                let problem = RenewInfoLimits.combinedProblem(renewInfo, lifetimeDays: lifetime)
            else { continue }
            sink.error(file, "renew_info", key, problem)
        }
        if renewInfo != renewInfoBeforeGlobals, renewKeys.keys.allSatisfy({ abs($0 - 90) > 0.1 }),
            let problem = RenewInfoLimits.combinedProblem(renewInfo, lifetimeDays: 90)
        {
            let key = globalValues["renew_expire_days_spread"] != nil ? "renew_expire_days_spread" : "renew_expire_days"
            sink.error(file, "globals", key, problem)
        }
        var config = MainConfig(globals: globals, renewInfo: renewInfo)
        config.groups = parseGroups(document["groups"])
        config.dnsPrimaries = parseDNSPrimaries(document["dns_primary"])
        config.dnsNameservers = parseDNSNameservers(document["dns_nameservers"])

        var extraServers: [ServerSection] = []
        for key in document.keys.sorted() {
            guard let node = document[key] else { continue }
            switch key {
            case "globals", "renew_info", "groups", "dns_primary", "dns_nameservers": continue
            case "dns":
                guard case .table(let table) = node else {
                    sink.error(file, nil, "dns", "expected a table [dns], found \(node.typeName)")
                    continue
                }
                config.dns = parseDNS(table)
            case "hooks":
                guard case .table(let table) = node else {
                    sink.error(file, nil, "hooks", "expected a table [hooks], found \(node.typeName)")
                    continue
                }
                config.hooks = parseHooks(table)
            case "notify":
                guard case .table(let table) = node else {
                    sink.error(file, nil, "notify", "expected a table [notify], found \(node.typeName)")
                    continue
                }
                config.notify = parseNotify(table)
            default:
                guard case .table(let table) = node else { continue }  // scalars were taken as globals
                if ServerSection.standardNames.contains(key) {
                    config.servers.append(parseServer(key, table))
                } else if !table.isEmpty, table.keys.allSatisfy(Self.serverKeys.contains) {
                    if let hint = Self.tableHint(key), hint != key {
                        sink.warning(
                            file, key, nil,
                            "taken as a server table of its own, not [\(hint)]: table names are case-sensitive; "
                                + "did you mean [\(hint)]?")
                    }
                    extraServers.append(parseServer(key, table))
                } else {
                    let hint = Self.tableHint(key)
                    sink.warning(
                        file, key, nil,
                        "unknown table (ignored)" + (hint.map { "; did you mean [\($0)]?" } ?? "")
                            + " — a server table may only use the keys "
                            + Self.serverKeys.sorted().joined(separator: ", "))
                }
            }
        }
        config.servers.sort {
            (ServerSection.standardNames.firstIndex(of: $0.name) ?? 99)
                < (ServerSection.standardNames.firstIndex(of: $1.name) ?? 99)
        }
        config.servers += extraServers
        return config
    }

    private static func tableHint(_ key: String) -> String? {
        let known = ["globals", "renew_info", "dns", "hooks", "notify", "smtp", "imap", "web", "other"]
        return known.first {
            $0.lowercased() == key.lowercased() || $0.replacingOccurrences(of: "_", with: "") == key.lowercased()
        }
    }

    // MARK: [globals]

    private func parseGlobals(
        _ values: [String: TOMLNode], renewInfo: inout RenewInfo,
        targetsConfigured: Set<Double>, randomConfigured: Set<Double>
    ) -> Globals {
        let r = TableReader(file: Self.file, table: "globals", values: values, sink: sink)
        var globals = Globals(
            prodCertDir: paths.resolve(Globals.defaultProdCertDir),
            logDir: paths.resolve(Globals.defaultLogDir),
            dnsExtraNameservers: Globals.defaultExtraNameservers.map { NameserverAddress(host: $0) })
        if let verbose = r.bool("verb") { globals.verbose = verbose }
        r.accept("sslm_auth_hook")  // ssl-mgr's certbot hook: sslm speaks ACME itself.
        if let dir = r.string("prod_cert_dir") {
            if dir.isEmpty {
                r.error("prod_cert_dir", "must not be empty (expected a directory such as /etc/ssl-mgr/prod-certs)")
            } else {
                globals.prodCertDir = paths.resolve(dir)
                if let problem = ProductionDirectory.problem(globals.prodCertDir, topdir: paths.topdir) {
                    r.error("prod_cert_dir", problem)
                }
            }
        }
        if let dir = r.string("logdir") {
            if dir.isEmpty { r.error("logdir", "must not be empty") } else { globals.logDir = paths.resolve(dir) }
        }
        if let keep = r.int("clean_keep") {
            if keep < 1 {
                r.warning("clean_keep", "\(keep) is below 1; using 1")
                globals.cleanKeep = 1
            } else if keep > ConfigLimits.cleanKeep.upperBound {
                r.error(
                    "clean_keep",
                    "out of range: expected \(TableReader.text(ConfigLimits.cleanKeep)) data sets, found \(keep)")
            } else {
                globals.cleanKeep = keep
            }
        }
        if let minutes = r.int("min_roll_mins") {
            if minutes < 0 {
                r.error("min_roll_mins", "expected 0 or more minutes, found \(minutes)")
            } else if let minutes = r.int(
                "min_roll_mins", in: ConfigLimits.minRollMinutes, unit: "minutes",
                note: " (at most 365 days)")
            {
                globals.minRollMinutes = minutes
            }
        }
        if let retire = r.bool("retire_orphans") { globals.retireOrphans = retire }
        if let hours = r.int("dane_roll_stuck_hours", in: ConfigLimits.daneRollStuckHours, unit: "hours") {
            globals.daneRollStuckHours = hours
        }
        if let days = r.int("dane_roll_deadline_days", in: ConfigLimits.daneRollDeadlineDays, unit: "days") {
            globals.daneRollDeadlineDays = days
        }
        if let delay = r.int("dns_check_delay", in: ConfigLimits.dnsCheckDelaySeconds, unit: "seconds") {
            globals.dnsCheckDelaySeconds = delay
        }
        if let list = r.stringList("dns_xtra_ns") {
            var servers: [NameserverAddress] = []
            for (index, entry) in list.enumerated() {
                switch NameserverAddress.parse(entry) {
                case .success(let address): servers.append(address)
                case .failure(let error): r.error("dns_xtra_ns", "item \(index + 1): \(error)")
                }
            }
            globals.dnsExtraNameservers = servers
        }
        if let node = r.node("post_copy_cmd") {
            globals.postCopyCommands = parsePostCopy(node, r)
        }
        if let path = r.string("ssh_config") {
            if path.isEmpty {
                globals.sshConfig = nil
            } else {
                let resolved = paths.resolve(path)
                if resolved.contains(where: { $0.isWhitespace || $0 == "'" || $0 == "\"" }) {
                    r.error(
                        "ssh_config",
                        "\(resolved) contains white space or a quote; rsync's -e option cannot pass such a path to ssh — move the file"
                    )
                } else if !FileManager.default.isReadableFile(atPath: resolved) {
                    r.error("ssh_config", "cannot read \(resolved) (expected an ssh client config file for ssh -F)")
                }
                globals.sshConfig = resolved
            }
        }
        if r.node("preferred_acme_profile") != nil {
            r.warning(
                "preferred_acme_profile",
                "not used (it never was in ssl-mgr either); set ca_preferred_acme_profile per CA in conf.d/ca-info.conf"
            )
        }
        if let days = r.number("renew_expire_days") {
            if let problem = RenewInfoLimits.targetProblem(days, lifetimeDays: 90) {
                r.error("renew_expire_days", problem)
            } else if targetsConfigured.contains(where: { abs($0 - 90) <= 0.1 }) {
                r.warning("renew_expire_days", "deprecated and overridden by [renew_info] target_90; remove it")
            } else {
                renewInfo.setTarget(lifetimeDays: 90, days: days)
                r.warning("renew_expire_days", "deprecated; applied as [renew_info] target_90 = \(days)")
            }
        }
        if let spread = r.number("renew_expire_days_spread") {
            if let problem = RenewInfoLimits.randomProblem(abs(spread), lifetimeDays: 90) {
                r.error("renew_expire_days_spread", problem)
            } else if randomConfigured.contains(where: { abs($0 - 90) <= 0.1 }) {
                r.warning(
                    "renew_expire_days_spread", "deprecated and overridden by [renew_info] rand_adj_90; remove it")
            } else {
                renewInfo.setRandom(lifetimeDays: 90, days: abs(spread))
                r.warning(
                    "renew_expire_days_spread", "deprecated; applied as [renew_info] rand_adj_90 = \(abs(spread))")
            }
        }
        r.reportUnknownKeys(hints: [
            "verbose": "verb", "clean-keep": "clean_keep", "min_roll_minutes": "min_roll_mins",
            "prod_certs_dir": "prod_cert_dir", "log_dir": "logdir",
        ])
        return globals
    }

    private func parsePostCopy(_ node: TOMLNode, _ r: TableReader) -> [PostCopyCommand] {
        guard case .array(let items) = node else {
            r.error("post_copy_cmd", "expected an array of [host, command] pairs, found \(node.typeName) \(node.shown)")
            return []
        }
        var result: [PostCopyCommand] = []
        for (index, item) in items.enumerated() {
            guard case .array(let pair) = item, pair.count == 2, case .string(let host) = pair[0],
                case .string(let command) = pair[1]
            else {
                r.error(
                    "post_copy_cmd", "item \(index + 1): expected [host, command] (two strings), found \(item.shown)")
                continue
            }
            if let problem = CommandText.hostProblem(host) {
                r.error("post_copy_cmd", "item \(index + 1): host \(problem)")
                continue
            }
            guard command.hasPrefix("/") else {
                r.error(
                    "post_copy_cmd", "item \(index + 1): command \"\(SafeText.clip(command))\" must be an absolute path"
                )
                continue
            }
            result.append(PostCopyCommand(host: host, command: command))
        }
        return result
    }

    // MARK: [renew_info]

    private func parseRenewInfo(
        _ values: [String: TOMLNode], into info: inout RenewInfo, targets: inout Set<Double>,
        random: inout Set<Double>, keys: inout [Double: String]
    ) {
        let r = TableReader(file: Self.file, table: "renew_info", values: values, sink: sink)
        for key in values.keys.sorted() {
            var name = key
            var isAlias = false
            if name.hasPrefix("renew_target_") {
                name = "target_" + name.dropFirst("renew_target_".count)
                isAlias = true
            }
            let lifetimeText: Substring
            let isTarget: Bool
            if name.hasPrefix("target_") {
                lifetimeText = name.dropFirst("target_".count)
                isTarget = true
            } else if name.hasPrefix("rand_adj_") {
                lifetimeText = name.dropFirst("rand_adj_".count)
                isTarget = false
            } else {
                continue  // reported as unknown below
            }
            guard let lifetime = Double(lifetimeText), lifetime.isFinite, lifetime >= 0 else {
                _ = r.node(key)
                r.error(
                    key,
                    "the part after the prefix must be a lifetime in days (e.g. target_90), found \"\(SafeText.clip(String(lifetimeText)))\""
                )
                continue
            }
            guard ConfigLimits.renewLifetimeDays.contains(lifetime) else {
                _ = r.node(key)
                r.error(
                    key,
                    "the lifetime \(TableReader.text(lifetime)) after the prefix is out of range (expected "
                        + "\(TableReader.text(ConfigLimits.renewLifetimeDays)) days, the longest validity sslm signs)")
                continue
            }
            guard let days = r.number(key) else { continue }
            let problem =
                isTarget
                ? RenewInfoLimits.targetProblem(days, lifetimeDays: lifetime)
                : RenewInfoLimits.randomProblem(days, lifetimeDays: lifetime)
            if let problem {
                r.error(key, problem)
                continue
            }
            if isAlias { r.warning(key, "ssl-mgr's example spelling; read as \(name) (ssl-mgr ignored it)") }
            if isTarget {
                info.setTarget(lifetimeDays: lifetime, days: days)
                targets.insert(lifetime)
                if keys[lifetime] == nil { keys[lifetime] = key }
            } else {
                info.setRandom(lifetimeDays: lifetime, days: days)
                random.insert(lifetime)
                keys[lifetime] = key  // a misfit pair is reported at the spread
            }
        }
        r.reportUnknownKeys()
    }

    // MARK: [[groups]]

    private func parseGroups(_ node: TOMLNode?) -> [MainConfig.GroupEntry] {
        let file = Self.file
        guard let node else {
            sink.error(file, nil, "groups", "missing: add at least one [[groups]] entry (domain, services, active)")
            return []
        }
        guard case .array(let items) = node, !items.isEmpty else {
            sink.error(
                file, nil, "groups",
                "expected a non-empty array of tables [[groups]], found \(node.typeName) \(node.shown)")
            return []
        }
        var result: [MainConfig.GroupEntry] = []
        var seen: Set<String> = []
        for (index, item) in items.enumerated() {
            let tableName = "groups[\(index + 1)]"
            guard case .table(let values) = item else {
                sink.error(file, tableName, nil, "expected a table, found \(item.typeName)")
                continue
            }
            let r = TableReader(file: file, table: tableName, values: values, sink: sink)
            let active = r.bool("active") ?? false
            var services: [String]? = []
            if let node = r.node("services") {
                switch node {
                case .string(let s) where s == "*" || s.uppercased() == "ALL":
                    services = nil
                case .array(let list):
                    var names: [String] = []
                    var wildcard = false
                    for (i, entry) in list.enumerated() {
                        guard case .string(let name) = entry else {
                            r.error(
                                "services", "item \(i + 1): expected a string, found \(entry.typeName) \(entry.shown)")
                            continue
                        }
                        if name == "*" || name.uppercased() == "ALL" { wildcard = true; continue }
                        if let problem = SafeName.problem(name) {
                            r.error("services", "item \(i + 1): not a usable service file name: \(problem)")
                            continue
                        }
                        if names.contains(name) {
                            r.warning("services", "\"\(name)\" is listed twice")
                            continue
                        }
                        names.append(name)
                    }
                    services = wildcard ? nil : names
                    if wildcard && !names.isEmpty {
                        r.warning("services", "'*'/'ALL' already means every service; the other names are redundant")
                    }
                default:
                    r.error(
                        "services",
                        "expected an array of service names or '*'/'ALL', found \(node.typeName) \(node.shown)")
                }
            } else {
                r.error("services", "missing (expected an array of service names or '*'/'ALL')")
            }
            let domainValue = r.string("domain")
            r.reportUnknownKeys(hints: ["name": "domain", "group": "domain", "service": "services"])
            guard let domain = domainValue else {
                if !r.has("domain") { r.error("domain", "missing (expected the apex domain, or 'ca' for local CAs)") }
                continue
            }
            if let problem = GroupName.problem(domain) {
                r.error("domain", problem)
                continue
            }
            if seen.contains(domain.lowercased()) {
                r.error("domain", "group \"\(domain)\" appears twice in [[groups]]; merge the entries")
                continue
            }
            seen.insert(domain.lowercased())
            result.append(.init(domain: domain, services: services, active: active, table: tableName))
        }
        return result
    }

    // MARK: [[dns_primary]], [[dns_nameservers]]

    private func tables(_ node: TOMLNode?, key: String) -> [(String, [String: TOMLNode])] {
        guard let node else { return [] }
        guard case .array(let items) = node else {
            sink.error(
                Self.file, nil, key, "expected an array of tables [[\(key)]], found \(node.typeName) \(node.shown)")
            return []
        }
        var result: [(String, [String: TOMLNode])] = []
        for (index, item) in items.enumerated() {
            let name = "\(key)[\(index + 1)]"
            guard case .table(let values) = item else {
                sink.error(Self.file, name, nil, "expected a table, found \(item.typeName)")
                continue
            }
            result.append((name, values))
        }
        return result
    }

    private func apexOrDefault(_ r: TableReader) -> String? {
        guard let domain = r.string("domain") else {
            if !r.has("domain") { r.error("domain", "missing (expected an apex domain or 'default')") }
            return nil
        }
        let lower = domain.lowercased()
        if lower == "default" || lower == "*" { return "default" }
        if let problem = GroupName.problem(lower) {
            r.error("domain", problem)
            return nil
        }
        return lower
    }

    private func parseDNSPrimaries(_ node: TOMLNode?) -> [DNSPrimary] {
        var result: [DNSPrimary] = []
        for (name, values) in tables(node, key: "dns_primary") {
            let r = TableReader(file: Self.file, table: name, values: values, sink: sink)
            let domain = apexOrDefault(r)
            let port = r.int("port")
            let server = r.string("server")
            let update = parseUpdateMethod(r)
            r.reportUnknownKeys()
            guard let domain, let update else { continue }
            guard let server else {
                if !r.has("server") {
                    r.error("server", "missing (expected the primary's address or host name, e.g. '127.0.0.1')")
                }
                continue
            }
            switch NameserverAddress.parse(server) {
            case .failure(let error):
                r.error("server", "\(error)")
            case .success(var address):
                if let port {
                    guard (1...65535).contains(port) else {
                        r.error("port", "expected a port 1–65535, found \(port)")
                        continue
                    }
                    if server.contains(":") && !HostName.isIPv6(server) && address.port != port {
                        r.error("port", "\(port) contradicts the port in server \"\(server)\"")
                        continue
                    }
                    address.port = port
                }
                result.append(DNSPrimary(domain: domain, server: address, update: update))
            }
        }
        return result
    }

    /// `update`, `tsig_key_file` and `update_cmd` of one `[[dns_primary]]` entry; nil after an error.
    private func parseUpdateMethod(_ r: TableReader) -> DNSUpdateMethod? {
        let methods = ["include", "rfc2136", "exec"]
        let name = r.string("update")
        let keyFile = r.string("tsig_key_file")
        let command = r.has("update_cmd") ? r.stringList("update_cmd") : nil
        if r.has("update") && name == nil { return nil }  // a type error, already reported
        let method = name?.lowercased() ?? "include"
        guard methods.contains(method) else {
            r.error(
                "update",
                "unknown method \"\(SafeText.clip(name ?? ""))\" (expected 'include', 'rfc2136' or 'exec')")
            return nil
        }
        var failed = false
        if r.has("tsig_key_file") && method != "rfc2136" {
            r.error(
                "tsig_key_file",
                "is only used with update = 'rfc2136' (found update = '\(method)'); remove it or set update")
            failed = true
        }
        if r.has("update_cmd") && method != "exec" {
            r.error(
                "update_cmd", "is only used with update = 'exec' (found update = '\(method)'); remove it or set update")
            failed = true
        }
        switch method {
        case "rfc2136":
            guard let keyFile else {
                if !r.has("tsig_key_file") {
                    r.error(
                        "tsig_key_file",
                        "missing (update = 'rfc2136' needs a TSIG key file as written by tsig-keygen, e.g. "
                            + "'/etc/ssl-mgr/tsig/example.com.key')")
                }
                return nil
            }
            guard !keyFile.isEmpty else {
                r.error("tsig_key_file", "is empty (expected the path of a TSIG key file as written by tsig-keygen)")
                return nil
            }
            let path = paths.resolve(keyFile)
            switch TSIGKeyFile.load(path) {
            case .failure(let problem):
                r.error("tsig_key_file", problem.message)
                return nil
            case .success(let key):
                if let mode = (try? FileManager.default.attributesOfItem(atPath: path))?[.posixPermissions] as? Int,
                    mode & 0o004 != 0
                {
                    r.warning(
                        "tsig_key_file",
                        "\(path) is readable by every user of this machine (mode \(String(mode & 0o777, radix: 8))); "
                            + "chmod 600 it")
                }
                return failed ? nil : .rfc2136(key)
            }
        case "exec":
            guard let command else {
                if !r.has("update_cmd") {
                    r.error(
                        "update_cmd",
                        "missing (update = 'exec' needs the program to run as an argv list, e.g. "
                            + "['/usr/local/lib/sslm/dns-hook'])")
                }
                return nil
            }
            guard let argv = executableArgv(r, "update_cmd", command) else { return nil }
            return failed ? nil : .exec(argv)
        default:
            return failed ? nil : .include
        }
    }

    private func parseDNSNameservers(_ node: TOMLNode?) -> [DNSNameserverSet] {
        var result: [DNSNameserverSet] = []
        for (name, values) in tables(node, key: "dns_nameservers") {
            let r = TableReader(file: Self.file, table: name, values: values, sink: sink)
            let domain = apexOrDefault(r)
            let list = r.stringList("servers", allowSingle: true)
            r.reportUnknownKeys()
            guard let domain else { continue }
            guard let list else {
                if !r.has("servers") { r.error("servers", "missing (expected ['addr[:port]', …])") }
                continue
            }
            if list.isEmpty { r.error("servers", "is empty (expected at least one 'addr[:port]')") }
            var servers: [NameserverAddress] = []
            for (index, entry) in list.enumerated() {
                switch NameserverAddress.parse(entry) {
                case .success(let address): servers.append(address)
                case .failure(let error): r.error("servers", "item \(index + 1): \(error)")
                }
            }
            result.append(DNSNameserverSet(domain: domain, servers: servers))
        }
        return result
    }

    // MARK: [dns] and server tables

    private func tokens(_ r: TableReader, _ key: String) -> Set<ChangeToken> {
        guard let list = r.stringList(key, allowSingle: true) else { return [] }
        var result: Set<ChangeToken> = []
        for entry in list {
            if let token = ChangeToken(rawValue: entry.lowercased()) {
                result.insert(token)
            } else {
                r.error(key, "unknown change \"\(SafeText.clip(entry))\" (expected any of cert, tlsa, dns)")
            }
        }
        return result
    }

    private func commands(_ r: TableReader, _ key: String) -> [[String]] {
        guard let list = r.stringList(key, allowSingle: true) else { return [] }
        var result: [[String]] = []
        for (index, entry) in list.enumerated() {
            let argv = entry.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            if argv.isEmpty { continue }
            if let problem = CommandText.argvProblem(argv) {
                r.error(key, "command \(index + 1): \(problem)")
                continue
            }
            result.append(argv)
        }
        return result
    }

    private func directories(_ r: TableReader, _ key: String) -> [String] {
        guard let list = r.stringList(key, allowSingle: true) else { return [] }
        return list.filter { !$0.isEmpty }.map(paths.resolve)
    }

    private func parseDNS(_ values: [String: TOMLNode]) -> DNSSettings {
        let r = TableReader(file: Self.file, table: "dns", values: values, sink: sink)
        var dns = DNSSettings()
        dns.restartCommands = commands(r, "restart_cmd")
        dns.acmeDirs = directories(r, "acme_dir")
        dns.tlsaDirs = directories(r, "tlsa_dirs")
        dns.depends = tokens(r, "depends")
        for entry in r.stringList("dane_connect") ?? [] {
            guard let equals = entry.firstIndex(of: "=") else {
                r.error("dane_connect", "expected 'HOST=ADDRESS:PORT', found '\(entry)'")
                continue
            }
            var host = entry[..<equals].lowercased()
            while host.hasSuffix(".") { host.removeLast() }
            let target = String(entry[entry.index(after: equals)...])
            guard !host.isEmpty, target.contains(":"), case .success(let address) = NameserverAddress.parse(target)
            else {
                r.error("dane_connect", "expected 'HOST=ADDRESS:PORT', found '\(entry)'")
                continue
            }
            dns.daneConnect[host] = address
        }
        dns.daneUnreachableHolds = r.bool("dane_unreachable_holds") ?? false
        _ = r.bool("skip_prod_copy")  // accepted (ssl-mgr ignores it too)
        if r.has("servers") {
            _ = r.node("servers")
            r.warning(
                "servers", "not used for [dns] (the refresh command runs locally); use [[dns_primary]] for the primary")
        }
        r.reportUnknownKeys(hints: ["tlsa_dir": "tlsa_dirs", "acme_dirs": "acme_dir"])
        return dns
    }

    private func parseServer(_ name: String, _ values: [String: TOMLNode]) -> ServerSection {
        let r = TableReader(file: Self.file, table: name, values: values, sink: sink)
        var section = ServerSection(name: name)
        if let servers = r.stringList("servers", allowSingle: true) {
            for (index, host) in servers.enumerated() {
                if let problem = CommandText.hostProblem(host) {
                    r.error("servers", "item \(index + 1): \(problem)")
                } else if !section.servers.contains(host) {
                    section.servers.append(host)
                }
            }
        }
        section.restartCommands = commands(r, "restart_cmd")
        section.depends = tokens(r, "depends")
        if let node = r.node("svc_depends") {
            section.serviceDependencies = parseServiceDependencies(node, r)
        }
        if let dir = r.string("server_dir") {
            if name != "web" {
                r.warning("server_dir", "only [web] uses server_dir (for http-01 tokens); ignored here")
            } else if !dir.isEmpty {
                section.serverDir = paths.resolve(dir)
            }
        }
        if let skip = r.bool("skip_prod_copy") { section.skipProdCopy = skip }
        if let timeout = r.int("restart_timeout") {
            if timeout < 1 {
                r.error("restart_timeout", "expected 1 or more seconds, found \(timeout)")
            } else if let timeout = r.int("restart_timeout", in: ConfigLimits.restartTimeoutSeconds, unit: "seconds") {
                section.restartTimeoutSeconds = timeout
            }
        }
        r.reportUnknownKeys(hints: [
            "server": "servers", "restart": "restart_cmd", "svc_depend": "svc_depends",
            "depend": "depends",
        ])
        return section
    }

    private func parseServiceDependencies(_ node: TOMLNode, _ r: TableReader) -> [ServerSection.ServiceDependency] {
        let shape = "[[domain, [service, …]], …]"
        guard case .array(let items) = node else {
            r.error("svc_depends", "expected \(shape), found \(node.typeName) \(node.shown)")
            return []
        }
        // A single pair written without the outer array: ['any', ['web-ec']].
        if items.count == 2, case .string = items[0], case .array = items[1] {
            r.error("svc_depends", "expected \(shape); wrap the pair in another [ ] — [[…]]")
            return []
        }
        var result: [ServerSection.ServiceDependency] = []
        for (index, item) in items.enumerated() {
            guard case .array(let pair) = item, pair.count == 2, case .string(let domain) = pair[0],
                case .array(let serviceNodes) = pair[1]
            else {
                r.error("svc_depends", "item \(index + 1): expected [domain, [service, …]], found \(item.shown)")
                continue
            }
            var services: [String] = []
            for serviceNode in serviceNodes {
                guard case .string(let service) = serviceNode else {
                    r.error(
                        "svc_depends", "item \(index + 1): service names must be strings, found \(serviceNode.shown)")
                    continue
                }
                services.append(service)
            }
            result.append(.init(domain: domain, services: services))
        }
        return result
    }
}

/// Validation of group (apex) names.
enum GroupName {
    static func problem(_ name: String) -> String? {
        if let problem = SafeName.problem(name) { return "not a usable directory name: \(problem)" }
        if ServiceAddress.isCAGroup(name) { return nil }
        switch HostName.classify(name) {
        case .success(.dns): return nil
        case .success:
            return
                "\"\(SafeText.clip(name))\" is not a domain name (expected an apex domain such as example.com, or 'ca')"
        case .failure(let error): return "not a domain name: \(error)"
        }
    }
}

/// Checks on strings that become command arguments or ssh destinations.
enum CommandText {
    /// A host for ssh/rsync: a name, an address or `user@host`; never something ssh would read as an option.
    static func hostProblem(_ host: String) -> String? {
        if host.isEmpty { return "is empty" }
        if host.hasPrefix("-") { return "\"\(SafeText.clip(host))\" starts with \"-\"" }
        for scalar in host.unicodeScalars {
            let ok =
                (scalar.value >= 0x30 && scalar.value <= 0x39) || (scalar.value >= 0x41 && scalar.value <= 0x5A)
                || (scalar.value >= 0x61 && scalar.value <= 0x7A) || "-._@:[]".unicodeScalars.contains(scalar)
            if !ok {
                return "\"\(SafeText.clip(host))\" is not a host name (contains \"\(SafeText.clip(String(scalar)))\")"
            }
        }
        return nil
    }

    static func argvProblem(_ argv: [String]) -> String? {
        for argument in argv where argument.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            return "\"\(SafeText.clip(argument))\" contains a control character"
        }
        return nil
    }
}

// MARK: - Programs and [hooks]

extension MainConfigParser {
    /// `command` (an argv list read from `key`) with its program resolved against the topdir, checked to be
    /// an existing executable file; nil after an error naming the key.
    func executableArgv(_ r: TableReader, _ key: String, _ command: [String]) -> [String]? {
        guard let program = command.first, !program.isEmpty else {
            r.error(key, "is empty (expected an argv list whose first item is an executable program)")
            return nil
        }
        if let problem = CommandText.argvProblem(command) {
            r.error(key, problem)
            return nil
        }
        let path = paths.resolve(program)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            r.error(key, "\(path) does not exist (expected an executable program)")
            return nil
        }
        guard !isDirectory.boolValue, FileManager.default.isExecutableFile(atPath: path) else {
            r.error(
                key,
                "\(path) is not executable (expected a program; found a "
                    + (isDirectory.boolValue ? "directory" : "file without execute permission") + ")")
            return nil
        }
        return [path] + command.dropFirst()
    }

    /// `[hooks]`: `deploy_cmd`, `failure_cmd` (argv lists of executable programs) and `timeout`.
    func parseHooks(_ values: [String: TOMLNode]) -> HookSettings {
        let r = TableReader(file: Self.file, table: "hooks", values: values, sink: sink)
        var hooks = HookSettings()
        for (key, path) in [("deploy_cmd", \HookSettings.deployCommand), ("failure_cmd", \.failureCommand)] {
            guard r.has(key), let command = r.stringList(key) else { continue }
            hooks[keyPath: path] = executableArgv(r, key, command)
        }
        if let seconds = r.int("timeout", in: ConfigLimits.restartTimeoutSeconds, unit: "seconds") {
            hooks.timeoutSeconds = seconds
        }
        r.reportUnknownKeys(hints: ["deploy": "deploy_cmd", "failure": "failure_cmd", "deploy_hook": "deploy_cmd"])
        return hooks
    }

    /// `[notify]`: `email` (addresses), `sendmail` (argv of an executable program), `expiry_days`.
    func parseNotify(_ values: [String: TOMLNode]) -> NotifySettings {
        let r = TableReader(file: Self.file, table: "notify", values: values, sink: sink)
        var notify = NotifySettings()
        if r.has("email"), let addresses = r.stringList("email", allowSingle: true) {
            for address in addresses where !Self.isMailAddress(address) {
                r.error("email", "expected mail addresses like hostmaster@example.com, found \"\(address)\"")
            }
            notify.email = addresses.filter(Self.isMailAddress)
        }
        if r.has("sendmail"), let command = r.stringList("sendmail"),
            let argv = executableArgv(r, "sendmail", command)
        {
            notify.sendmail = argv
        }
        if let days = r.int("expiry_days", in: 1...365, unit: "days") { notify.expiryDays = days }
        r.reportUnknownKeys(hints: ["mail": "email", "to": "email", "emails": "email"])
        return notify
    }

    /// `local@domain`: printable ASCII without white space or characters that would end a header field.
    static func isMailAddress(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        let forbidden = Set("<>,;\"()[]\\".unicodeScalars)
        return parts.count == 2 && !parts[0].isEmpty && parts[1].contains(".") && text.utf8.count <= 254
            && text.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value < 0x7F && !forbidden.contains($0) }
    }
}
