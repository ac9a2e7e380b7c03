import SSLMCore

/// Checks that span files: signing CAs exist and can sign, and what dns-01, http-01 and DANE need is
/// configured. Each problem is reported once, at the file and key that has to change.
struct CrossChecks {
    let sink: DiagnosticSink
    let main: MainConfig
    let authorities: [String: CertificateAuthority]
    let services: [ServiceAddress: ParsedService]
    let missing: Set<ServiceAddress>

    func run() {
        let main = MainConfigParser.file
        var dnsPrimaryNeeds: [String: String] = [:]  // apex → why
        var daneServices: [ServiceAddress] = []
        // A local CA's service signs by its role, whether or not a configured service uses it yet.
        var signers = Set(authorities.values.filter(\.isLocal).map(\.localAddress))

        for address in services.keys.sorted() {
            guard let parsed = services[address] else { continue }
            let service = parsed.config
            if !service.dane.isEmpty { daneServices.append(address) }
            if service.dane.contains(where: { $0.hostSet == .mx }) && !address.isCertificateAuthority {
                dnsPrimaryNeeds[address.group.lowercased()] =
                    dnsPrimaryNeeds[address.group.lowercased()]
                    ?? "DANE records on MX hosts of \(address)"
            }
            switch service.signer {
            case .selfSigned:
                signers.insert(address)
            case .authority(let name):
                guard let ca = authorities[name] else {
                    let known = authorities.keys.sorted()
                    sink.error(
                        service.file, nil, "signing_ca",
                        "no CA named \"\(SafeText.clip(name))\" in conf.d/ca-info.conf"
                            + (known.isEmpty ? " (it defines none)" : " (known: \(known.joined(separator: ", ")))"))
                    continue
                }
                switch ca.kind {
                case .local:
                    signers.insert(ca.localAddress)
                    if ca.localAddress == address {
                        sink.error(
                            service.file, nil, "signing_ca",
                            "the CA \"\(name)\" cannot sign its own certificate; use signing_ca = 'self' for a root")
                    }
                case .acme(let acme):
                    if address.isCertificateAuthority {
                        sink.error(
                            service.file, nil, "signing_ca",
                            "\"\(name)\" is an ACME CA; it does not issue CA certificates (group 'ca')")
                    }
                    switch acme.validation {
                    case .dns01:
                        dnsPrimaryNeeds[address.group.lowercased()] =
                            dnsPrimaryNeeds[address.group.lowercased()]
                            ?? "dns-01 validation of \(address)"
                        // Zones changed by DNS UPDATE or a provider need neither include files nor a refresh.
                        let viaIncludeFiles =
                            self.main.updatesThroughIncludeFiles(address.group)
                        if viaIncludeFiles && self.main.dns.acmeDirs.isEmpty {
                            sink.error(
                                main, "dns", "acme_dir",
                                "missing: dns-01 (CA \"\(name)\", used by \(address)) writes acme-challenge.<apex> there"
                            )
                        }
                        if viaIncludeFiles && self.main.dns.restartCommands.isEmpty {
                            sink.error(
                                main, "dns", "restart_cmd",
                                "missing: dns-01 (CA \"\(name)\", used by \(address)) must refresh the zone after writing the challenge"
                            )
                        }
                        if let ip = service.sans.first(where: { HostName.isIPv4($0) || HostName.isIPv6($0) }) {
                            sink.error(
                                service.file, "X509", "sans",
                                "\(ip) is an IP address: dns-01 (CA \"\(name)\") validates DNS names only (IP addresses validate by http-01, RFC 8738): use an http-01 CA or drop the address"
                            )
                        }
                    case .http01:
                        if self.main.servers.first(where: { $0.name == "web" })?.serverDir == nil {
                            sink.error(
                                main, "web", "server_dir",
                                "missing: http-01 (CA \"\(name)\", used by \(address)) writes tokens under <server_dir>/<apex>/.well-known/acme-challenge/"
                            )
                        }
                        if let wildcard = service.sans.first(where: { $0.hasPrefix("*.") }) {
                            sink.error(
                                service.file, "X509", "sans",
                                "\(wildcard) validates by dns-01 only, but the CA \"\(name)\" uses http-01: use a dns-01 CA for this service"
                            )
                        }
                    }
                }
            }
        }
        // Every signer needs [CA].
        for address in signers.sorted() {
            guard let parsed = services[address] else { continue }
            if parsed.config.signing == nil && !parsed.hasCATable {
                let role =
                    parsed.config.signer == .selfSigned && !isLocalCA(address)
                    ? "a self-signed certificate takes its validity and digest from its own [CA]"
                    : "this CA signs certificates with the validity and digest of its [CA]"
                sink.error(parsed.config.file, "CA", nil, "missing: \(role); add [CA] with sign_end_days and digest")
            }
        }
        for address in services.keys.sorted() where !signers.contains(address) {
            if let parsed = services[address], parsed.hasCATable {
                sink.warning(
                    parsed.config.file, "CA", nil,
                    "ignored: only services that sign (a CA or a self-signed certificate) use [CA]")
            }
        }
        checkLocalCAChains()
        for apex in dnsPrimaryNeeds.keys.sorted() {
            let hasPrimary = self.main.dnsPrimaries.contains { $0.domain == apex || $0.isDefault }
            if !hasPrimary, let why = dnsPrimaryNeeds[apex] {
                sink.error(
                    main, nil, "dns_primary",
                    "no [[dns_primary]] entry for \(apex) and no 'default' entry; \(why) needs the primary DNS server")
            }
        }
        let includeDANE = daneServices.filter {
            self.main.updatesThroughIncludeFiles($0.group)
        }
        if !includeDANE.isEmpty && self.main.dns.tlsaDirs.isEmpty {
            let names = includeDANE.map(\.description).joined(separator: ", ")
            sink.warning(
                main, "dns", "tlsa_dirs",
                "not set: TLSA records of \(names) are written to certs/<apex>/ and production but not to a zone include directory"
            )
        }
        for section in self.main.servers {
            for dependency in section.serviceDependencies where !dependency.matchesEveryGroup {
                for service in dependency.services {
                    let address = ServiceAddress(group: dependency.domain, service: service)
                    if services[address] == nil && !missing.contains(address) {
                        sink.warning(
                            main, section.name, "svc_depends",
                            "\(dependency.domain):\(service) is not a configured service")
                    }
                }
            }
        }
    }

    private func isLocalCA(_ address: ServiceAddress) -> Bool {
        authorities.values.contains { $0.isLocal && $0.localAddress == address }
    }

    /// A local CA's certificate must be self-signed or signed by another local CA, without cycles.
    private func checkLocalCAChains() {
        for name in authorities.keys.sorted() {
            guard let ca = authorities[name], ca.isLocal, let parsed = services[ca.localAddress] else { continue }
            var seen: [String] = [name]
            var current = parsed.config
            while case .authority(let issuer) = current.signer {
                guard let issuerCA = authorities[issuer] else { break }  // reported at signing_ca
                if !issuerCA.isLocal { break }  // reported above (ACME CA for group ca)
                if seen.contains(issuer) {
                    sink.error(
                        parsed.config.file, nil, "signing_ca",
                        "local CAs sign each other in a circle: \((seen + [issuer]).joined(separator: " → ")); the root must use signing_ca = 'self'"
                    )
                    break
                }
                seen.append(issuer)
                guard let next = services[issuerCA.localAddress] else { break }
                current = next.config
            }
        }
    }
}
