import CLDNS
import SSLMConfig
import SSLMCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// DNS UPDATE messages (RFC 2136) built, TSIG-signed (RFC 8945) and read back with libldns: no wire
/// format is written by hand.
///
/// A message has the zone section (the zone's SOA, class IN), no prerequisites, and the update section:
/// the deletions (class NONE, TTL 0: exactly those RRs) then the additions (class IN). A change whose
/// message would exceed `maxMessageBytes` is split into several messages, deletions first, each signed on
/// its own; the caller reports that (`DNSUpdateReport.split`).
public enum DNSUpdateMessage {
    /// The size of a message that still fits a classic UDP datagram; larger ones go over TCP directly.
    public static let udpLimit = 512
    /// The default largest message: well below 64 KiB (the TCP limit) and below what servers accept
    /// (BIND and Knot take 64 KiB); a change larger than this is split.
    public static let defaultMaxMessageBytes = 16_384
    /// The TSIG fudge (seconds of clock difference the server accepts), as RFC 8945 recommends.
    public static let fudgeSeconds: UInt16 = 300

    /// One signed UPDATE message, ready to send.
    public struct Signed: Sendable, Hashable {
        /// The message with its TSIG record.
        public var wire: [UInt8]
        public var id: UInt16
        /// Records in its update section.
        public var records: Int
        /// The MAC of the request's TSIG record (the length-prefixed rdata field), to verify the answer.
        var requestMAC: [UInt8]
    }

    /// The messages for `change`, signed with `key`. Fails with `.badRequest` (nothing to send is not a
    /// failure: an empty change gives no message) or `.library`.
    public static func build(
        _ change: DNSZoneChange, key: TSIGKey, maxMessageBytes: Int = defaultMaxMessageBytes
    ) -> Result<[Signed], DNSUpdateError> {
        let zone = change.zone
        guard let zoneName = ldns_dname_new_frm_str(zone + ".") else {
            return .failure(DNSUpdateError(.badRequest, "\"\(SafeName.printable(zone))\" is not a zone name"))
        }
        defer { ldns_rdf_deep_free(zoneName) }
        var deletions: [DNSUpdateRecord] = []
        for record in change.deletions where !deletions.contains(where: { $0.sameRR(record) }) {
            deletions.append(record)
        }
        var additions: [DNSUpdateRecord] = []
        for record in change.additions where !additions.contains(where: { $0.sameRR(record) }) {
            additions.append(record)
        }
        // Every record built and measured first: a bad one fails the whole change before anything is sent.
        var built: [(rr: UnsafeMutablePointer<ldns_rr>, size: Int)] = []
        defer { for item in built { ldns_rr_free(item.rr) } }
        for (record, delete) in deletions.map({ ($0, true) }) + additions.map({ ($0, false) }) {
            switch makeRR(record, delete: delete, zone: zone, zoneName: zoneName) {
            case .failure(let error): return .failure(error)
            case .success(let rr):
                var buffer: UnsafeMutablePointer<UInt8>? = nil
                var size = 0
                let status = ldns_rr2wire(&buffer, rr, Int32(LDNS_SECTION_AUTHORITY.rawValue), &size)
                free(buffer)
                guard status == LDNS_STATUS_OK else {
                    ldns_rr_free(rr)
                    return .failure(
                        DNSUpdateError(
                            .library, "libldns cannot encode \(record): \(PinnedResolver.statusText(status))"))
                }
                built.append((rr, size))
            }
        }
        guard !built.isEmpty else { return .success([]) }

        // Header, zone section, and the TSIG record (key name, algorithm name, 16 fixed bytes, a MAC of at
        // most 64 bytes, its length and the other-data length).
        let overhead =
            12 + (zone.utf8.count + 2 + 4) + (key.name.utf8.count + 2 + 10)
            + (key.algorithm.domainName.utf8.count + 1 + 16 + 64 + 2 + 2)
        let budget = max(1, maxMessageBytes - overhead)
        var chunks: [[UnsafeMutablePointer<ldns_rr>]] = [[]]
        var used = 0
        for item in built {
            if used + item.size > budget, let last = chunks.last, !last.isEmpty {
                chunks.append([])
                used = 0
            }
            chunks[chunks.count - 1].append(item.rr)
            used += item.size
        }
        var messages: [Signed] = []
        for chunk in chunks {
            switch sign(chunk, zoneName: zoneName, key: key) {
            case .failure(let error): return .failure(error)
            case .success(let message): messages.append(message)
            }
        }
        return .success(messages)
    }

    /// One signed message of `records` (not consumed: the list holds clones).
    private static func sign(
        _ records: [UnsafeMutablePointer<ldns_rr>], zoneName: UnsafeMutablePointer<ldns_rdf>, key: TSIGKey
    ) -> Result<Signed, DNSUpdateError> {
        guard let list = ldns_rr_list_new() else { return .failure(DNSUpdateError(.library, "libldns: out of memory")) }
        defer { ldns_rr_list_deep_free(list) }
        for rr in records {
            guard let copy = ldns_rr_clone(rr) else {
                return .failure(DNSUpdateError(.library, "libldns: out of memory"))
            }
            _ = ldns_rr_list_push_rr(list, copy)
        }
        guard let zoneCopy = ldns_rdf_clone(zoneName),
            let packet = ldns_update_pkt_new(zoneCopy, LDNS_RR_CLASS_IN, nil, list, nil)
        else {
            return .failure(DNSUpdateError(.library, "libldns cannot create an UPDATE message"))
        }
        defer { ldns_pkt_free(packet) }
        ldns_pkt_set_rd(packet, false)
        let id = UInt16.random(in: 0...UInt16.max)
        ldns_pkt_set_id(packet, id)
        let signed = ldns_pkt_tsig_sign(
            packet, key.name + ".", key.secret.base64, fudgeSeconds, key.algorithm.domainName, nil)
        guard signed == LDNS_STATUS_OK, let tsig = ldns_pkt_tsig(packet), let mac = PinnedResolver.field(tsig, 3) else {
            return .failure(
                DNSUpdateError(
                    .library,
                    "libldns cannot sign with key \"\(key.name)\" (\(key.algorithm.rawValue)): "
                        + PinnedResolver.statusText(signed)))
        }
        var buffer: UnsafeMutablePointer<UInt8>? = nil
        var size = 0
        let status = ldns_pkt2wire(&buffer, packet, &size)
        defer { free(buffer) }
        guard status == LDNS_STATUS_OK, let buffer else {
            return .failure(
                DNSUpdateError(.library, "libldns cannot encode the UPDATE: \(PinnedResolver.statusText(status))"))
        }
        return .success(
            Signed(
                wire: Array(UnsafeBufferPointer(start: buffer, count: size)), id: id, records: records.count,
                requestMAC: PinnedResolver.bytes(mac)))
    }

    /// The RR for `record`: class IN with its TTL to add, class NONE with TTL 0 to delete exactly it.
    private static func makeRR(
        _ record: DNSUpdateRecord, delete: Bool, zone: String, zoneName: UnsafeMutablePointer<ldns_rdf>
    ) -> Result<UnsafeMutablePointer<ldns_rr>, DNSUpdateError> {
        let shown = SafeName.printable(record.owner)
        guard case .success(.dns) = HostName.classify(record.owner) else {
            return .failure(DNSUpdateError(.badRequest, "\"\(shown)\" is not a valid owner name"))
        }
        guard let owner = ldns_dname_new_frm_str(record.owner + ".") else {
            return .failure(DNSUpdateError(.badRequest, "\"\(shown)\" is not a valid owner name"))
        }
        guard ldns_dname_compare(owner, zoneName) == 0 || ldns_dname_is_subdomain(owner, zoneName) else {
            ldns_rdf_deep_free(owner)
            return .failure(
                DNSUpdateError(.badRequest, "\(record) is outside zone \(zone): each zone gets its own UPDATE"))
        }
        guard record.ttl <= UInt32(Int32.max) else {
            ldns_rdf_deep_free(owner)
            return .failure(DNSUpdateError(.badRequest, "\(record): TTL above 2147483647"))
        }
        guard let rr = ldns_rr_new() else {
            ldns_rdf_deep_free(owner)
            return .failure(DNSUpdateError(.library, "libldns: out of memory"))
        }
        ldns_rr_set_owner(rr, owner)
        ldns_rr_set_class(rr, delete ? LDNS_RR_CLASS_NONE : LDNS_RR_CLASS_IN)
        ldns_rr_set_ttl(rr, delete ? 0 : record.ttl)
        var fields: [UnsafeMutablePointer<ldns_rdf>?] = []
        switch record.content {
        case .txt(let value):
            ldns_rr_set_type(rr, LDNS_RR_TYPE_TXT)
            let bytes = Array(value.utf8)
            var start = 0
            repeat {
                let piece = bytes[start..<min(bytes.count, start + 255)]
                let data = [UInt8(piece.count)] + piece
                fields.append(ldns_rdf_new_frm_data(LDNS_RDF_TYPE_STR, data.count, data))
                start += 255
            } while start < bytes.count
        case .tlsa(let tlsa):
            ldns_rr_set_type(rr, LDNS_RR_TYPE_TLSA)
            guard let data = hexBytes(tlsa.dataHex), !data.isEmpty,
                [tlsa.usage, tlsa.selector, tlsa.matchingType].allSatisfy({ (0...255).contains($0) })
            else {
                ldns_rr_free(rr)
                return .failure(DNSUpdateError(.badRequest, "\(record): not a valid TLSA record"))
            }
            fields.append(ldns_native2rdf_int8(LDNS_RDF_TYPE_CERTIFICATE_USAGE, UInt8(tlsa.usage)))
            fields.append(ldns_native2rdf_int8(LDNS_RDF_TYPE_SELECTOR, UInt8(tlsa.selector)))
            fields.append(ldns_native2rdf_int8(LDNS_RDF_TYPE_MATCHING_TYPE, UInt8(tlsa.matchingType)))
            fields.append(ldns_rdf_new_frm_data(LDNS_RDF_TYPE_HEX, data.count, data))
        }
        for field in fields {
            guard let field else {
                ldns_rr_free(rr)
                return .failure(DNSUpdateError(.library, "libldns: out of memory"))
            }
            _ = ldns_rr_push_rdf(rr, field)
        }
        return .success(rr)
    }

    private static func hexBytes(_ hex: String) -> [UInt8]? {
        let digits = Array(hex.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        var index = 0
        while index < digits.count {
            guard let high = nibble(digits[index]), let low = nibble(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    // MARK: reading messages back

    /// A DNS message as libldns reads it: enough to check what an UPDATE (or its answer) holds.
    public struct Decoded: Sendable, Hashable {
        /// One record of a section, in zone-file text.
        public struct Entry: Sendable, Hashable, CustomStringConvertible {
            public var owner: String
            public var ttl: UInt32
            /// `IN`, `NONE` or `ANY`.
            public var rrClass: String
            public var type: String
            /// The rdata fields as libldns prints them, space-separated.
            public var rdata: String
            public var description: String { "\(owner) \(ttl) \(rrClass) \(type) \(rdata)".trimmingSuffixSpace }
        }

        public var id: UInt16
        /// `UPDATE`, `QUERY`, …
        public var opcode: String
        public var isResponse: Bool
        /// `NOERROR`, `REFUSED`, `NOTAUTH`, …
        public var rcode: String
        public var recursionDesired: Bool
        /// The zone section (question section): `example.com. 0 IN SOA`.
        public var zone: [Entry]
        /// The prerequisite section (answer section).
        public var prerequisites: [Entry]
        /// The update section (authority section).
        public var updates: [Entry]
        /// The additional section, without the TSIG record.
        public var additional: [Entry]
        /// The TSIG record's owner (the key name, with its trailing dot), algorithm and error, if any.
        public var tsigKeyName: String?
        public var tsigAlgorithm: String?
        public var tsigError: Int?
    }

    /// Reads `wire` with libldns (`ldns_wire2pkt`). `.network` when it is not a DNS message.
    public static func decode(_ wire: [UInt8]) -> Result<Decoded, DNSUpdateError> {
        var packet: UnsafeMutablePointer<ldns_pkt>? = nil
        let status = ldns_wire2pkt(&packet, wire, wire.count)
        guard status == LDNS_STATUS_OK, let packet else {
            return .failure(DNSUpdateError(.network, "not a DNS message: \(PinnedResolver.statusText(status))"))
        }
        defer { ldns_pkt_free(packet) }
        func entries(_ list: UnsafeMutablePointer<ldns_rr_list>?, question: Bool = false) -> [Decoded.Entry] {
            guard let list else { return [] }
            return (0..<ldns_rr_list_rr_count(list)).compactMap { index in
                guard let rr = ldns_rr_list_rr(list, index) else { return nil }
                var found = entry(rr)
                if question { found.ttl = 0 }  // a question has no TTL on the wire
                return found
            }
        }
        var decoded = Decoded(
            id: ldns_pkt_id(packet),
            opcode: PinnedResolver.string(ldns_pkt_opcode2str(ldns_pkt_get_opcode(packet))) ?? "?",
            isResponse: ldns_pkt_qr(packet),
            rcode: PinnedResolver.rcodeText(ldns_pkt_get_rcode(packet)),
            recursionDesired: ldns_pkt_rd(packet),
            zone: entries(ldns_pkt_question(packet), question: true),
            prerequisites: entries(ldns_pkt_answer(packet)), updates: entries(ldns_pkt_authority(packet)),
            additional: entries(ldns_pkt_additional(packet)))
        if let tsig = ldns_pkt_tsig(packet) {
            decoded.tsigKeyName = ldns_rr_owner(tsig).flatMap { PinnedResolver.string(ldns_rdf2str($0)) }
            decoded.tsigAlgorithm = PinnedResolver.field(tsig, 0).flatMap { PinnedResolver.string(ldns_rdf2str($0)) }
            decoded.tsigError = tsigError(tsig)
        }
        return .success(decoded)
    }

    static func entry(_ rr: UnsafeMutablePointer<ldns_rr>) -> Decoded.Entry {
        let owner = ldns_rr_owner(rr).flatMap { PinnedResolver.string(ldns_rdf2str($0)) } ?? ""
        let rdata = (0..<ldns_rr_rd_count(rr)).compactMap { index in
            PinnedResolver.field(rr, index).flatMap { PinnedResolver.string(ldns_rdf2str($0)) }
        }
        return Decoded.Entry(
            owner: owner, ttl: ldns_rr_ttl(rr),
            rrClass: PinnedResolver.string(ldns_rr_class2str(ldns_rr_get_class(rr))) ?? "?",
            type: PinnedResolver.string(ldns_rr_type2str(ldns_rr_get_type(rr))) ?? "?",
            rdata: rdata.joined(separator: " "))
    }

    /// The error field of a TSIG record (16 BADSIG, 17 BADKEY, 18 BADTIME, 22 BADTRUNC), if readable.
    static func tsigError(_ tsig: UnsafeMutablePointer<ldns_rr>) -> Int? {
        guard let field = PinnedResolver.field(tsig, 5), ldns_rdf_size(field) == 2 else { return nil }
        return Int(ldns_rdf2native_int16(field))
    }

    /// `BADSIG` for 16 and so on; `TSIG error N` otherwise.
    static func tsigErrorName(_ code: Int) -> String {
        switch code {
        case 16: "BADSIG"
        case 17: "BADKEY"
        case 18: "BADTIME"
        case 19: "BADMODE"
        case 22: "BADTRUNC"
        default: "TSIG error \(code)"
        }
    }
}

extension String {
    fileprivate var trimmingSuffixSpace: String {
        var text = self
        while text.hasSuffix(" ") { text.removeLast() }
        return text
    }
}
