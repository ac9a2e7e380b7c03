import CLDNS
import Foundation
import SSLMCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One libldns query to exactly one explicitly given name server (IP literal and port).
///
/// Never reads /etc/resolv.conf: the resolver is created empty (`ldns_resolver_new`) and given only the server
/// asked for; no search domains are appended. Truncated UDP answers are retried over TCP by libldns.
/// NXDOMAIN and NODATA are answers (an empty list); no answer and error rcodes are failures. Blocking; every
/// call has its own resolver, so calls may run concurrently. Internal: the typed lookups (`DNSQuery`,
/// `MXLookup`) are the API.
struct PinnedResolver: Sendable {
    /// Seconds to wait for each attempt.
    var timeoutSeconds: Double
    /// Attempts after the first one.
    var retries: Int

    /// `name` lowercased, without trailing dots, or nil when empty.
    static func normalised(_ name: String) -> String? {
        var name = name.lowercased()
        while name.hasSuffix(".") { name.removeLast() }
        return name.isEmpty ? nil : name
    }

    /// The records of `type` in the answer section owned by `name`, each decoded by `decode` (nil drops it).
    /// `typeName` only appears in messages ("MX example.com at 127.0.0.1:53: …").
    func records<T>(
        _ name: String, type: ldns_rr_type, typeName: String, at server: NameserverAddress,
        decode: (UnsafeMutablePointer<ldns_rr>) -> T?
    ) -> Result<[T], DNSLookupError> {
        answer(name, type: type, typeName: typeName, at: server, dnssecOK: false, decode: decode).map(\.values)
    }

    /// As `records`, and whether the answer came with the AD (authenticated data) flag. `dnssecOK` sets
    /// the DO bit (EDNS0), so a validating resolver reports its validation in AD; without it AD is not
    /// asked for. Only a validating resolver the caller trusts makes AD meaningful.
    func answer<T>(
        _ name: String, type: ldns_rr_type, typeName: String, at server: NameserverAddress, dnssecOK: Bool,
        decode: (UnsafeMutablePointer<ldns_rr>) -> T?
    ) -> Result<(values: [T], authenticated: Bool), DNSLookupError> {
        guard let name = Self.normalised(name) else { return .failure(DNSLookupError(.badName, "empty domain name")) }
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
        ldns_resolver_set_fallback(resolver, true)
        if dnssecOK { ldns_resolver_set_dnssec(resolver, true) }

        guard let qname = ldns_dname_new_frm_str(name + ".") else {
            return .failure(DNSLookupError(.badName, "\"\(SafeName.printable(name))\" is not a domain name"))
        }
        defer { ldns_rdf_deep_free(qname) }
        var answer: UnsafeMutablePointer<ldns_pkt>? = nil
        let status = ldns_resolver_send(&answer, resolver, qname, type, LDNS_RR_CLASS_IN, UInt16(LDNS_RD))
        guard status == LDNS_STATUS_OK, let answer else {
            if let answer { ldns_pkt_free(answer) }
            return .failure(
                DNSLookupError(.network, "\(typeName) \(name) at \(serverText): no answer (\(Self.statusText(status)))")
            )
        }
        defer { ldns_pkt_free(answer) }

        let authenticated = ldns_pkt_ad(answer)
        let rcode = ldns_pkt_get_rcode(answer)
        switch rcode {
        case LDNS_RCODE_NOERROR: break
        case LDNS_RCODE_NXDOMAIN: return .success(([], authenticated))
        default:
            return .failure(
                DNSLookupError(
                    .serverError, "\(typeName) \(name) at \(serverText): the server answered \(Self.rcodeText(rcode))"))
        }
        guard let list = ldns_pkt_rr_list_by_type(answer, type, LDNS_SECTION_ANSWER) else {
            return .success(([], authenticated))  // NODATA
        }
        defer { ldns_rr_list_deep_free(list) }
        var values: [T] = []
        for index in 0..<ldns_rr_list_rr_count(list) {
            guard let record = ldns_rr_list_rr(list, index), let owner = ldns_rr_owner(record),
                ldns_dname_compare(owner, qname) == 0, let value = decode(record)
            else { continue }
            values.append(value)
        }
        return .success((values, authenticated))
    }

    // MARK: rdata decoding

    /// The `index`th rdata field of `record`, if present.
    static func field(_ record: UnsafeMutablePointer<ldns_rr>, _ index: Int) -> UnsafeMutablePointer<ldns_rdf>? {
        guard index < ldns_rr_rd_count(record) else { return nil }
        return ldns_rr_rdf(record, index)
    }

    /// The raw bytes of an rdata field.
    static func bytes(_ rdf: UnsafeMutablePointer<ldns_rdf>) -> [UInt8] {
        let size = ldns_rdf_size(rdf)
        guard size > 0, let data = ldns_rdf_data(rdf) else { return [] }
        return Array(UnsafeBufferPointer(start: data, count: size))
    }

    /// A domain name field as text: lowercase, without the trailing dot.
    static func hostName(_ rdf: UnsafeMutablePointer<ldns_rdf>) -> String? {
        guard let text = string(ldns_rdf2str(rdf)) else { return nil }
        return normalised(text)
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
