import Foundation
import SSLMCore

/// A service file after parsing, before cross-checks (signing CA existence, `[CA]` of signers…).
struct ParsedService: Sendable {
    var config: ServiceConfig
    /// True when the file had a `[CA]` table (even if its values were wrong).
    var hasCATable: Bool
}

/// Parses one service file `conf.d/<group>/<service>`.
struct ServiceParser {
    let sink: DiagnosticSink
    let globalRenewInfo: RenewInfo

    func parse(_ document: [String: TOMLNode], address: ServiceAddress) -> ParsedService? {
        let file = "conf.d/\(address.group)/\(address.service)"
        var scalars: [String: TOMLNode] = [:]
        var tables: [String: [String: TOMLNode]] = [:]
        for (key, node) in document {
            if case .table(let t) = node { tables[key] = t } else { scalars[key] = node }
        }
        var ok = true
        let r = TableReader(file: file, table: nil, values: scalars, sink: sink)
        let name = r.string("name")
        if name == nil, !r.has("name") {
            r.error("name", "missing (expected a description, e.g. name = 'Mail server')"); ok = false
        }
        if let name, name.isEmpty { r.error("name", "must not be empty"); ok = false }
        if let group = r.string("group") {
            if group != address.group {
                r.error("group", "\"\(SafeText.clip(group))\" does not match the directory \"\(address.group)\"")
                ok = false
            }
        } else if !r.has("group") {
            r.error("group", "missing (expected group = '\(address.group)')")
            ok = false
        } else {
            ok = false
        }
        if let service = r.string("service") {
            if service != address.service {
                r.error("service", "\"\(SafeText.clip(service))\" does not match the file name \"\(address.service)\"")
                ok = false
            }
        } else if !r.has("service") {
            r.error("service", "missing (expected service = '\(address.service)')")
            ok = false
        } else {
            ok = false
        }
        var signer = ServiceConfig.Signer.selfSigned
        if let ca = r.string("signing_ca") {
            let lower = ca.lowercased()
            if !(ca.isEmpty || lower == "self") {
                if let problem = SafeName.problem(ca) {
                    r.error("signing_ca", "not a usable CA name: \(problem)")
                    ok = false
                }
                signer = .authority(ca)
            }
        }
        var dane: [DANESpec] = []
        if let node = r.node("dane_tls") {
            if let parsed = parseDANE(node, r) { dane = parsed } else { ok = false }
        }
        var daneTTL: Int? = ServiceConfig.defaultDANETTL
        if r.has("dane_tls_ttl") {
            if let ttl = r.int(
                "dane_tls_ttl", in: ConfigLimits.ttlSeconds, unit: "seconds",
                note: " (RFC 2181; 0 = no TTL field)")
            {
                daneTTL = ttl > 0 ? ttl : nil
            } else {
                ok = false
            }
        }
        var checkEndpoints: [CheckEndpoint]?
        if r.has("check_endpoints") {
            if let parsed = parseCheckEndpoints(r) { checkEndpoints = parsed } else { ok = false }
        }
        var renewInfo = globalRenewInfo
        if let days = r.number("renew_expire_days") {
            if let problem = RenewInfoLimits.targetProblem(days, lifetimeDays: 90) {
                r.error("renew_expire_days", problem)
                ok = false
            } else {
                renewInfo.setTarget(lifetimeDays: 90, days: days)
                r.warning(
                    "renew_expire_days",
                    "deprecated (6.x); applied to this service as [renew_info] target_90 = \(days)")
            }
        }
        if let spread = r.number("renew_expire_days_spread") {
            if let problem = RenewInfoLimits.randomProblem(abs(spread), lifetimeDays: 90) {
                r.error("renew_expire_days_spread", problem)
                ok = false
            } else {
                renewInfo.setRandom(lifetimeDays: 90, days: abs(spread))
                r.warning(
                    "renew_expire_days_spread",
                    "deprecated (6.x); applied to this service as [renew_info] rand_adj_90 = \(abs(spread))")
            }
        }
        if renewInfo != globalRenewInfo, let problem = RenewInfoLimits.combinedProblem(renewInfo, lifetimeDays: 90) {
            r.error(r.has("renew_expire_days_spread") ? "renew_expire_days_spread" : "renew_expire_days", problem)
            ok = false
        }
        r.reportUnknownKeys(hints: [
            "signing-ca": "signing_ca", "date_tls_ttl": "dane_tls_ttl",
            "dane_ttl": "dane_tls_ttl", "dane": "dane_tls", "check_endpoint": "check_endpoints",
            "endpoints": "check_endpoints",
        ])

        // [KeyOpts]
        var key = KeySpec.default
        if let values = tables["KeyOpts"] {
            if let parsed = parseKeyOpts(values, file: file, address: address) { key = parsed } else { ok = false }
        } else {
            sink.error(file, "KeyOpts", nil, "missing table [KeyOpts] (e.g. ktype = 'ec', ec_algo = 'secp384r1')")
            ok = false
        }
        // [X509]
        var subject: X509Settings?
        var sans: [String] = []
        if let values = tables["X509"] {
            if let parsed = parseX509(values, file: file, address: address) {
                subject = parsed.0
                sans = parsed.1
            } else {
                ok = false
            }
        } else {
            sink.error(file, "X509", nil, "missing table [X509] (CN, O, C and sans are required)")
            ok = false
        }
        // [CA]
        var signing: SigningSettings?
        if let values = tables["CA"] {
            if let parsed = parseCA(values, file: file) { signing = parsed } else { ok = false }
        }
        for tableName in tables.keys.sorted() where !["KeyOpts", "X509", "CA"].contains(tableName) {
            let hint = ["KeyOpts", "X509", "CA"].first { $0.lowercased() == tableName.lowercased() }
            sink.warning(
                file, tableName, nil, "unknown table (ignored)" + (hint.map { "; did you mean [\($0)]?" } ?? ""))
        }
        guard ok, let name, let subject else { return nil }
        var config = ServiceConfig(
            address: address, file: file, name: name, signer: signer, dane: dane, daneTTL: daneTTL, key: key,
            subject: subject, sans: sans, signing: signing, renewInfo: renewInfo)
        config.checkEndpoints = checkEndpoints
        return ParsedService(config: config, hasCATable: tables["CA"] != nil)
    }

    // MARK: check_endpoints

    /// `check_endpoints = ['www.example.com:443', 'mail.example.com:143=imap', '[2001:db8::1]:443']`; nil
    /// after an error (each bad entry reported with what was expected and what was found).
    private func parseCheckEndpoints(_ r: TableReader) -> [CheckEndpoint]? {
        let key = "check_endpoints"
        guard let node = r.node(key) else { return nil }
        guard case .array(let items) = node else {
            r.error(key, "expected a list of \(CheckEndpoint.syntax) strings, found \(node.typeName) \(node.shown)")
            return nil
        }
        var result: [CheckEndpoint] = []
        var ok = true
        for (index, item) in items.enumerated() {
            let label = "item \(index + 1)"
            guard case .string(let text) = item else {
                r.error(
                    key, "\(label): expected a string \(CheckEndpoint.syntax), found \(item.typeName) \(item.shown)")
                ok = false
                continue
            }
            switch CheckEndpoint.parse(text) {
            case .failure(let problem):
                r.error(
                    key,
                    "\(label): \(problem): expected \(CheckEndpoint.syntax), found '\(SafeText.clip(text))'")
                ok = false
            case .success(let endpoint):
                if let earlier = result.first(where: { $0.host == endpoint.host && $0.port == endpoint.port }) {
                    r.warning(key, "\(label) '\(SafeText.clip(text))' repeats '\(earlier)' (checked once)")
                    continue
                }
                result.append(endpoint)
            }
        }
        return ok ? result : nil
    }

    // MARK: dane_tls

    private func parseDANE(_ node: TOMLNode, _ r: TableReader) -> [DANESpec]? {
        let key = "dane_tls"
        guard case .array(let items) = node else {
            r.error(
                key, "expected an array of entries like [[25, 'tcp', 3, 1, 1]], found \(node.typeName) \(node.shown)")
            return nil
        }
        if let first = items.first, !({ if case .array = first { true } else { false } }()) {
            r.error(
                key,
                "expected an array of entries like [[25, 'tcp', 3, 1, 1]], found a single entry; wrap it in another [ ]"
            )
            return nil
        }
        var result: [DANESpec] = []
        var ok = true
        for (index, item) in items.enumerated() {
            let label = "entry \(index + 1)"
            guard case .array(let fields) = item else {
                r.error(
                    key,
                    "\(label): expected [port, proto, usage, selector, match_type] or with 'MX'/'SANS', found \(item.typeName) \(item.shown)"
                )
                ok = false
                continue
            }
            guard fields.count == 5 || fields.count == 6 else {
                r.error(
                    key,
                    "\(label): expected 5 or 6 elements [port, proto, usage, selector, match_type(, 'MX'|'SANS')], found \(fields.count)"
                )
                ok = false
                continue
            }
            func int(_ position: Int, _ what: String, _ range: ClosedRange<Int>) -> Int? {
                guard case .int(let value) = fields[position] else {
                    r.error(
                        key,
                        "\(label): \(what) (element \(position + 1)) must be an integer, found \(fields[position].shown)"
                    )
                    return nil
                }
                guard range.contains(value) else {
                    r.error(
                        key,
                        "\(label): \(what) \(value) is out of range (expected \(range.lowerBound)–\(range.upperBound))")
                    return nil
                }
                return value
            }
            let port = int(0, "port", 1...65535)
            var proto: String?
            if case .string(let p) = fields[1], ["tcp", "udp", "sctp"].contains(p.lowercased()) {
                proto = p.lowercased()
            } else {
                r.error(key, "\(label): proto (element 2) must be 'tcp', 'udp' or 'sctp', found \(fields[1].shown)")
            }
            let usage = int(2, "usage", 0...3)
            let selector = int(3, "selector", 0...1)
            let matching = int(4, "match_type", 0...2)
            var subtype: DANESpec.HostSet?
            if fields.count == 6 {
                if case .string(let s) = fields[5], let value = DANESpec.HostSet(rawValue: s.uppercased()) {
                    subtype = value
                } else {
                    r.error(key, "\(label): subtype (element 6) must be 'MX' or 'SANS', found \(fields[5].shown)")
                    ok = false
                }
            }
            guard let port, let proto, let usage, let selector, let matching else {
                ok = false
                continue
            }
            let spec = DANESpec(
                port: port, proto: proto, usage: usage, selector: selector, matchingType: matching,
                subtype: subtype)
            if result.contains(spec) {
                r.warning(key, "\(label) repeats an earlier entry")
                continue
            }
            result.append(spec)
        }
        return ok ? result : nil
    }

    // MARK: [KeyOpts]

    private func parseKeyOpts(_ values: [String: TOMLNode], file: String, address: ServiceAddress) -> KeySpec? {
        let r = TableReader(file: file, table: "KeyOpts", values: values, sink: sink)
        let ktype = (r.string("ktype") ?? "ec").lowercased()
        let algo = r.string("ec_algo")
        let bits = r.lenientInt("rsa_bits")
        r.reportUnknownKeys(hints: [
            "bits": "rsa_bits", "key_type": "ktype", "type": "ktype", "curve": "ec_algo",
            "ec_curve": "ec_algo",
        ])
        switch ktype {
        case "ec":
            guard let algo else { return .ec(.secp384r1) }
            guard let curve = ECCurve(configName: algo) else {
                let expected = ECCurve.allCases.map(\.rawValue).joined(separator: ", ")
                r.error("ec_algo", "unknown curve \"\(SafeText.clip(algo))\" (expected one of \(expected))")
                return nil
            }
            return .ec(curve)
        case "rsa":
            let size = bits ?? KeySpec.defaultRSABits
            guard KeySpec.rsaBitsRange.contains(size) else {
                r.error(
                    "rsa_bits",
                    "\(size) is out of range (expected \(KeySpec.rsaBitsRange.lowerBound)–\(KeySpec.rsaBitsRange.upperBound); below 2048 is insecure)"
                )
                return nil
            }
            guard size % 8 == 0 else {
                r.error("rsa_bits", "\(size) is not a multiple of 8")
                return nil
            }
            return .rsa(bits: size)
        case "ed25519":
            guard address.isCertificateAuthority else {
                r.error(
                    "ktype",
                    "'ed25519' is only for local CAs (group 'ca'): TLS clients and public CAs do not accept Ed25519 server certificates; use 'ec' or 'rsa'"
                )
                return nil
            }
            return .ed25519
        default:
            r.error("ktype", "unknown key type \"\(SafeText.clip(ktype))\" (expected 'ec', 'rsa' or 'ed25519')")
            return nil
        }
    }

    // MARK: [X509]

    private func parseX509(_ values: [String: TOMLNode], file: String, address: ServiceAddress)
        -> (X509Settings, [String])?
    {
        let r = TableReader(file: file, table: "X509", values: values, sink: sink)
        var ok = true
        func required(_ key: String, _ example: String) -> String? {
            guard let value = r.string(key) else {
                if !r.has(key) { r.error(key, "missing (required, e.g. \(key) = '\(example)')") }
                ok = false
                return nil
            }
            if value.trimmingCharacters(in: .whitespaces).isEmpty {
                r.error(key, "must not be empty")
                ok = false
                return nil
            }
            return value
        }
        let cn = required("CN", address.isCertificateAuthority ? "Example Root CA" : address.group)
        let o = required("O", "Example Company")
        let c = required("C", "US")
        var fields = X509Settings(commonName: cn ?? "", organization: o ?? "", country: c ?? "")
        fields.organizationalUnit = r.string("OU") ?? ""
        fields.locality = r.string("L") ?? ""
        fields.state = r.string("ST") ?? ""
        fields.email = r.string("email") ?? ""
        let sanList = r.stringList("sans") ?? []
        r.reportUnknownKeys(hints: [
            "cn": "CN", "o": "O", "c": "C", "ou": "OU", "san": "sans", "SANs": "sans",
            "SANS": "sans", "emailAddress": "email",
        ])
        if let cn, cn.count > 64 {
            r.error("CN", "is \(cn.count) characters long (the X.509 limit is 64)")
            ok = false
        }
        if let c,
            !(c.count == 2
                && c.unicodeScalars.allSatisfy({
                    ($0.value >= 0x41 && $0.value <= 0x5A) || ($0.value >= 0x61 && $0.value <= 0x7A)
                }))
        {
            r.error("C", "\"\(SafeText.clip(c))\" is not a two-letter country code (e.g. 'US', 'DE')")
            ok = false
        }
        if !fields.email.isEmpty {
            let parts = fields.email.split(separator: "@", omittingEmptySubsequences: false)
            if parts.count != 2 || parts[0].isEmpty || parts[1].isEmpty
                || fields.email.unicodeScalars.contains(where: { $0.value <= 0x20 || $0.value == 0x7F })
            {
                r.error("email", "\"\(SafeText.clip(fields.email))\" is not an email address")
                ok = false
            }
        }
        let isCA = address.isCertificateAuthority
        var sans: [String] = []
        for (index, san) in sanList.enumerated() {
            switch HostName.classify(san) {
            case .success(let name):
                if sans.contains(name.text) {
                    r.warning("sans", "item \(index + 1): \"\(name.text)\" is listed twice")
                } else {
                    sans.append(name.text)
                }
            case .failure(let error):
                r.error("sans", "item \(index + 1): \(error)")
                ok = false
            }
        }
        if let cn {
            switch HostName.classify(cn) {
            case .success(let name):
                sans.removeAll { $0 == name.text }
                sans.insert(name.text, at: 0)
            case .failure:
                if !isCA {
                    r.error(
                        "CN",
                        "\"\(SafeText.clip(cn))\" is not a host name; a server certificate's CN is its first SAN (e.g. CN = '\(address.group)')"
                    )
                    ok = false
                }
            }
        }
        if !isCA && sans.isEmpty {
            r.error("sans", "no host names: add the names the certificate is for")
            ok = false
        }
        return ok ? (fields, sans) : nil
    }

    // MARK: [CA]

    private func parseCA(_ values: [String: TOMLNode], file: String) -> SigningSettings? {
        let r = TableReader(file: file, table: "CA", values: values, sink: sink)
        var ok = true
        let days = r.int("sign_end_days")
        let digestText = r.string("digest")
        r.reportUnknownKeys(hints: ["sign_days": "sign_end_days", "days": "sign_end_days", "hash": "digest"])
        if days == nil {
            if !r.has("sign_end_days") {
                r.error(
                    "sign_end_days", "missing (the validity in days of the certificates this service signs, e.g. 90)")
            }
            ok = false
        } else if let days, days < 1 {
            r.error("sign_end_days", "expected 1 or more days, found \(days)")
            ok = false
        } else if let days, !ConfigLimits.signEndDays.contains(days) {
            r.error(
                "sign_end_days",
                "out of range: expected \(TableReader.text(ConfigLimits.signEndDays)) days "
                    + "(at most 100 years: X.509 dates end in the year 9999), found \(days)")
            ok = false
        }
        var digest = DigestAlgorithm.default
        if let digestText, !digestText.isEmpty {
            let lower = digestText.lowercased().replacingOccurrences(of: "-", with: "_")
            switch lower {
            case "sha256": digest = .sha256
            case "sha384": digest = .sha384
            case "sha512": digest = .sha512
            case "sha224", "sha3_224", "sha3_256":
                digest = .sha256
                r.warning("digest", "\"\(digestText)\" is not supported for signing; using sha256")
            case "sha3_384":
                digest = .sha384
                r.warning("digest", "\"\(digestText)\" is not supported for signing; using sha384")
            case "sha3_512":
                digest = .sha512
                r.warning("digest", "\"\(digestText)\" is not supported for signing; using sha512")
            default:
                r.error(
                    "digest",
                    "unknown digest \"\(SafeText.clip(digestText))\" (expected 'sha256', 'sha384' or 'sha512')")
                ok = false
            }
        }
        guard ok, let days else { return nil }
        return SigningSettings(validityDays: days, digest: digest)
    }
}
