import CLDNS
import SSLMCore

/// Queries the MX hosts of an apex at one explicitly given name server (address and port) with libldns.
///
/// Never reads /etc/resolv.conf: the resolver is created empty (`ldns_resolver_new`) and given exactly the
/// server asked for; no search domains are appended. Guarantees on success: every exchange host of the
/// answer (hosts sharing a preference are all kept — ssl-mgr kept only one per preference), lowercase,
/// without the trailing dot, sorted, duplicates and the null MX (`.`) removed. NXDOMAIN and NODATA are
/// answers (an empty list); no answer (timeout, refused, network error) and error rcodes (SERVFAIL,
/// REFUSED, …) are failures, never an empty list. Blocking; each call uses its own resolver, so calls may
/// run concurrently.
public struct MXLookup: Sendable {
    /// Seconds to wait for each attempt.
    public var timeoutSeconds: Double
    /// Attempts after the first one.
    public var retries: Int

    public init(timeoutSeconds: Double = 2, retries: Int = 1) {
        self.timeoutSeconds = timeoutSeconds
        self.retries = retries
    }

    /// The MX hosts of `apex` as `server` answers. `server.host` must be an IP literal.
    public func mxHosts(apex: String, server: NameserverAddress) -> Result<[String], DNSLookupError> {
        PinnedResolver(timeoutSeconds: timeoutSeconds, retries: retries)
            .records(apex, type: LDNS_RR_TYPE_MX, typeName: "MX", at: server) { record -> String? in
                guard let exchange = PinnedResolver.field(record, 1), let host = PinnedResolver.hostName(exchange)
                else { return nil }
                return host
            }
            .map { Set($0).sorted() }
    }
}
