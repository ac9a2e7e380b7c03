import CLDNS
import Foundation
import SSLMCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

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
        var name = apex.lowercased()
        while name.hasSuffix(".") { name.removeLast() }
        guard !name.isEmpty else { return .failure(DNSLookupError(.badName, "empty domain name")) }
        let serverText = server.description
        let addressType: ldns_rdf_type
        if HostName.isIPv4(server.host) {
            addressType = LDNS_RDF_TYPE_A
        } else if HostName.isIPv6(server.host) {
            addressType = LDNS_RDF_TYPE_AAAA
        } else {
            return .failure(
                DNSLookupError(.badServer, "name server \(serverText) is a host name; give an IP address"))
        }
        guard (1...65535).contains(server.port) else {
            return .failure(DNSLookupError(.badServer, "name server \(serverText): port out of range"))
        }
        guard let resolver = ldns_resolver_new() else {
            return .failure(DNSLookupError(.library, "libldns: cannot create a resolver"))
        }
        defer { ldns_resolver_deep_free(resolver) }
        guard let address = ldns_rdf_new_frm_str(addressType, server.host) else {
            return .failure(DNSLookupError(.badServer, "name server \(serverText): not an IP address"))
        }
        let pushed = ldns_resolver_push_nameserver(resolver, address)
        ldns_rdf_deep_free(address)
        guard pushed == LDNS_STATUS_OK else {
            return .failure(DNSLookupError(.library, "libldns: cannot use \(serverText): \(Self.statusText(pushed))"))
        }
        ldns_resolver_set_port(resolver, UInt16(server.port))
        let seconds = max(0.001, timeoutSeconds)
        let whole = seconds.rounded(.down)
        ldns_resolver_set_timeout(
            resolver, timeval(tv_sec: Int(whole), tv_usec: Int((seconds - whole) * 1_000_000)))
        ldns_resolver_set_retry(resolver, UInt8(clamping: max(0, retries) + 1))
        ldns_resolver_set_retrans(resolver, 0)
        ldns_resolver_set_recursive(resolver, true)
        ldns_resolver_set_dnsrch(resolver, false)
        ldns_resolver_set_defnames(resolver, false)
        ldns_resolver_set_random(resolver, false)

        guard let qname = ldns_dname_new_frm_str(name + ".") else {
            return .failure(DNSLookupError(.badName, "\"\(SafeName.printable(apex))\" is not a domain name"))
        }
        defer { ldns_rdf_deep_free(qname) }
        var answer: UnsafeMutablePointer<ldns_pkt>? = nil
        let status = ldns_resolver_send(&answer, resolver, qname, LDNS_RR_TYPE_MX, LDNS_RR_CLASS_IN, UInt16(LDNS_RD))
        guard status == LDNS_STATUS_OK, let answer else {
            if let answer { ldns_pkt_free(answer) }
            return .failure(
                DNSLookupError(
                    .network, "MX \(name) at \(serverText): no answer (\(Self.statusText(status)))"))
        }
        defer { ldns_pkt_free(answer) }

        let rcode = ldns_pkt_get_rcode(answer)
        switch rcode {
        case LDNS_RCODE_NOERROR: break
        case LDNS_RCODE_NXDOMAIN: return .success([])
        default:
            return .failure(
                DNSLookupError(
                    .serverError, "MX \(name) at \(serverText): the server answered \(Self.rcodeText(rcode))"))
        }
        guard let list = ldns_pkt_rr_list_by_type(answer, LDNS_RR_TYPE_MX, LDNS_SECTION_ANSWER) else {
            return .success([])  // NODATA
        }
        defer { ldns_rr_list_deep_free(list) }
        var hosts = Set<String>()
        for index in 0..<ldns_rr_list_rr_count(list) {
            guard let record = ldns_rr_list_rr(list, index), ldns_rr_rd_count(record) >= 2,
                let owner = ldns_rr_owner(record), ldns_dname_compare(owner, qname) == 0,
                let exchange = ldns_rr_rdf(record, 1), let text = Self.string(ldns_rdf2str(exchange))
            else { continue }
            var host = text.lowercased()
            while host.hasSuffix(".") { host.removeLast() }
            if !host.isEmpty { hosts.insert(host) }
        }
        return .success(hosts.sorted())
    }

    static func statusText(_ status: ldns_status) -> String {
        guard let text = ldns_get_errorstr_by_id(status) else { return "ldns status \(status.rawValue)" }
        return String(cString: text)
    }

    static func rcodeText(_ rcode: ldns_pkt_rcode) -> String {
        string(ldns_pkt_rcode2str(rcode)) ?? "rcode \(rcode.rawValue)"
    }

    /// Takes ownership of a malloc'ed C string.
    static func string(_ pointer: UnsafeMutablePointer<CChar>?) -> String? {
        guard let pointer else { return nil }
        defer { free(pointer) }
        return String(cString: pointer)
    }
}
