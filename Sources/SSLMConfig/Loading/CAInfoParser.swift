import Foundation
import SSLMCore

/// Parses `conf.d/ca-info.conf`: one table per CA.
struct CAInfoParser {
    static let file = "conf.d/ca-info.conf"
    let sink: DiagnosticSink
    let paths: PathResolver

    func parse(_ document: [String: TOMLNode]) -> [String: CertificateAuthority] {
        var result: [String: CertificateAuthority] = [:]
        for name in document.keys.sorted() {
            guard let node = document[name] else { continue }
            guard case .table(let values) = node else {
                sink.error(
                    Self.file, nil, name,
                    "expected a CA table [\(SafeText.clip(name))], found \(node.typeName) \(node.shown)")
                continue
            }
            if let problem = SafeName.problem(name) {
                sink.error(Self.file, SafeText.clip(name), nil, "not a usable CA name: \(problem)")
                continue
            }
            if let ca = parseCA(name, values) { result[name] = ca }
        }
        return result
    }

    private func parseCA(_ name: String, _ values: [String: TOMLNode]) -> CertificateAuthority? {
        let r = TableReader(file: Self.file, table: name, values: values, sink: sink)
        let description = r.string("ca_desc") ?? ""
        let typeText = r.string("ca_type")
        let validationText = r.string("ca_validation")
        let chain = r.string("ca_preferred_chain")
        let profile = r.string("ca_preferred_acme_profile")
        let directory = r.string("ca_directory_url")
        let staging = r.string("ca_staging_directory_url")
        let trust = r.string("ca_trust_file")
        let kid = r.string("ca_eab_kid")
        let hmac = r.string("ca_eab_hmac_key")
        r.reportUnknownKeys(hints: [
            "ca_desc ": "ca_desc", "type": "ca_type", "validation": "ca_validation",
            "ca_directory": "ca_directory_url", "directory_url": "ca_directory_url",
        ])
        guard let typeText else {
            if !r.has("ca_type") { r.error("ca_type", "missing (expected 'self', 'local', 'letsencrypt' or 'acme')") }
            return nil
        }
        let type = typeText.lowercased()
        switch type {
        case "self", "local":
            let acmeKeys = [
                "ca_validation", "ca_directory_url", "ca_staging_directory_url", "ca_trust_file",
                "ca_eab_kid", "ca_eab_hmac_key", "ca_preferred_chain",
            ]
            for key in acmeKeys where r.has(key) {
                r.warning(key, "only used by ACME CAs; ignored for a \(type) CA")
            }
            return CertificateAuthority(name: name, description: description, type: type, kind: .local)
        case "letsencrypt", "certbot", "acme":
            break
        default:
            r.error(
                "ca_type",
                "unknown CA type \"\(SafeText.clip(typeText))\" (expected 'self', 'local', 'letsencrypt', 'certbot' or 'acme')"
            )
            return nil
        }
        var ok = true
        let validation: ACMESettings.Validation
        switch validationText?.lowercased() {
        case let v? where v.hasPrefix("http"): validation = .http01
        case let v? where v.hasPrefix("dns"): validation = .dns01
        case nil:
            if !r.has("ca_validation") { r.error("ca_validation", "missing (expected 'http-01' or 'dns-01')") }
            return nil
        case let v?:
            r.error("ca_validation", "unknown challenge type \"\(SafeText.clip(v))\" (expected 'http-01' or 'dns-01')")
            return nil
        }
        let isLetsEncrypt = type != "acme"
        var directoryURL = ACMESettings.letsEncryptProduction
        if let directory, !directory.isEmpty {
            if let problem = Self.urlProblem(directory) {
                r.error("ca_directory_url", problem)
                ok = false
            }
            directoryURL = directory
        } else if !isLetsEncrypt {
            r.error("ca_directory_url", "missing: an 'acme' CA needs the URL of its ACME directory")
            ok = false
        }
        var stagingURL: String? =
            directoryURL == ACMESettings.letsEncryptProduction ? ACMESettings.letsEncryptStaging : nil
        if let staging {
            if staging.isEmpty {
                stagingURL = nil
            } else if let problem = Self.urlProblem(staging) {
                r.error("ca_staging_directory_url", problem)
                ok = false
            } else {
                stagingURL = staging
            }
        }
        var trustFile: String?
        if let trust, !trust.isEmpty {
            let path = paths.resolve(trust)
            if !FileManager.default.isReadableFile(atPath: path) {
                r.error("ca_trust_file", "cannot read \(path) (expected a PEM bundle of trusted CA certificates)")
                ok = false
            }
            trustFile = path
        }
        var hmacSecret: Secret?
        switch (kid, hmac) {
        case (nil, nil): break
        case (let k?, let h?):
            if k.isEmpty || h.isEmpty {
                r.error(k.isEmpty ? "ca_eab_kid" : "ca_eab_hmac_key", "is empty (External Account Binding needs both)")
                ok = false
            } else if !Self.isBase64URL(h) {
                // Never echo the key.
                r.error("ca_eab_hmac_key", "is not base64url text (the value is not shown: it is a secret)")
                ok = false
            }
            hmacSecret = Secret(h)
        case (nil, _?):
            r.error("ca_eab_kid", "missing: ca_eab_hmac_key is set, External Account Binding needs both")
            ok = false
        case (_?, nil):
            r.error("ca_eab_hmac_key", "missing: ca_eab_kid is set, External Account Binding needs both")
            ok = false
        }
        guard ok else { return nil }
        let settings = ACMESettings(
            validation: validation,
            preferredChain: (chain?.isEmpty ?? true) ? nil : chain,
            preferredProfile: profile.map { $0.isEmpty ? .noProfile : .named($0) } ?? .tlsServerIfOffered,
            directoryURL: directoryURL,
            stagingDirectoryURL: stagingURL,
            trustFile: trustFile,
            externalAccountKeyID: kid,
            externalAccountHMACKey: hmacSecret)
        return CertificateAuthority(name: name, description: description, type: type, kind: .acme(settings))
    }

    static func urlProblem(_ text: String) -> String? {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), let host = url.host, !host.isEmpty
        else {
            return "\"\(SafeText.clip(text))\" is not a URL (expected https://host/path)"
        }
        guard scheme == "https" else {
            return "\"\(SafeText.clip(text))\" must use https (ACME requires it)"
        }
        return nil
    }

    static func isBase64URL(_ text: String) -> Bool {
        text.unicodeScalars.allSatisfy {
            ($0.value >= 0x30 && $0.value <= 0x39) || ($0.value >= 0x41 && $0.value <= 0x5A)
                || ($0.value >= 0x61 && $0.value <= 0x7A) || $0 == "-" || $0 == "_" || $0 == "="
        }
    }
}
