import SSLMCore

/// The TLS endpoints `sslm check` probes for a service, and why those.
public struct ServiceCheckEndpoints: Sendable, Hashable {
    /// Where the list comes from.
    public enum Source: Sendable, Hashable {
        /// The service file's `check_endpoints`.
        case configured
        /// No `check_endpoints` and a web service: its DNS and IP SANs on port 443 (the reason is
        /// `Config.webServiceReason(_:)`).
        case webDefault(reason: String)
        /// No `check_endpoints` and not a web service: nothing to probe.
        case none
    }

    public var endpoints: [CheckEndpoint]
    public var source: Source

    public init(endpoints: [CheckEndpoint], source: Source) {
        self.endpoints = endpoints
        self.source = source
    }
}

extension Config {
    /// Why `service` is a web service, or nil when it is not one. A web service is one that
    ///
    /// 1. `[web] svc_depends` names (the web servers are restarted when its curr changes, so they serve it), or
    /// 2. is signed by an ACME CA that validates with `http-01` (its names are answered by the `[web]`
    ///    servers on port 80, so they are web names).
    ///
    /// Names do not count (`web-ec` is a file name, not a role), nor does a `dane_tls` entry on 443 (the DANE
    /// check already probes those endpoints).
    public func webServiceReason(_ service: ServiceConfig) -> String? {
        let address = service.address
        if let web,
            let dependency = web.serviceDependencies.first(where: { dependency in
                (dependency.matchesEveryGroup || dependency.domain.lowercased() == address.group.lowercased())
                    && dependency.services.contains(address.service)
            })
        {
            return "[web] svc_depends names it (\(dependency.domain))"
        }
        if case .authority(let name) = service.signer, certificateAuthorities[name]?.acme?.validation == .http01 {
            return "its CA \(name) validates with http-01"
        }
        return nil
    }

    /// The service's `check_endpoints`; without the key, a web service's SANs on port 443 (wildcard SANs
    /// left out: there is no single host to connect to); otherwise none.
    public func checkEndpoints(for service: ServiceConfig) -> ServiceCheckEndpoints {
        if let configured = service.checkEndpoints {
            return ServiceCheckEndpoints(endpoints: configured, source: .configured)
        }
        guard let reason = webServiceReason(service) else {
            return ServiceCheckEndpoints(endpoints: [], source: .none)
        }
        var endpoints: [CheckEndpoint] = []
        for san in service.sans {
            guard case .success(let name) = HostName.classify(san) else { continue }
            if case .wildcard = name { continue }
            let endpoint = CheckEndpoint(host: name.text, port: 443)
            if !endpoints.contains(endpoint) { endpoints.append(endpoint) }
        }
        return ServiceCheckEndpoints(endpoints: endpoints, source: .webDefault(reason: reason))
    }
}
