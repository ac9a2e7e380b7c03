import CLDNS
import Logging
import SSLMConfig
import SSLMCore

/// Sends DNS UPDATE messages (RFC 2136), TSIG-signed, to a zone's primary, and checks the signed answer.
///
/// One `DNSZoneChange` goes out as one message (several only when it would exceed `maxMessageBytes`; the
/// report says so). Transport: UDP, with TCP when the message exceeds 512 bytes, when the UDP answer is
/// truncated, or when UDP gets no answer; each exchange is bounded by `timeoutSeconds`. The server must be
/// an IP literal and port (resolve host names first: `NameserverResolution`); nothing reads
/// /etc/resolv.conf. A NOERROR answer counts only when its TSIG verifies with the key; every other outcome
/// is a `DNSUpdateError` whose sentence names the server, the zone and the key's name (never its secret).
///
/// Adding a record that exists and deleting one that does not are no-ops on the server (RFC 2136 §3.4.2),
/// so a change may be sent again after a failure or a crash. Blocking: use `send(_:to:key:) async`, which
/// runs on a thread of its own, from async code.
public struct DNSUpdateClient: Sendable {
    /// Seconds to wait for each exchange (the UDP attempt, then the TCP one).
    public var timeoutSeconds: Double
    /// The largest message sent; a larger change is split.
    public var maxMessageBytes: Int
    public var logger: Logger

    public init(
        logger: Logger, timeoutSeconds: Double = 5, maxMessageBytes: Int = DNSUpdateMessage.defaultMaxMessageBytes
    ) {
        self.logger = logger
        self.timeoutSeconds = max(0.01, timeoutSeconds)
        self.maxMessageBytes = max(512, min(65_535, maxMessageBytes))
    }

    /// Applies `change` at `server` (an IP literal) with `key`; see the type's documentation. An empty change
    /// sends nothing and reports no message.
    public func send(_ change: DNSZoneChange, to server: NameserverAddress, key: TSIGKey)
        -> Result<DNSUpdateReport, DNSUpdateError>
    {
        let context = "DNS UPDATE of zone \(change.zone) at \(server) with TSIG key \"\(key.name)\""
        guard HostName.isIPv4(server.host) || HostName.isIPv6(server.host), (1...65535).contains(server.port) else {
            return .failure(
                DNSUpdateError(.badRequest, "\(context): the server must be an IP address and port; resolve it first"))
        }
        let messages: [DNSUpdateMessage.Signed]
        switch DNSUpdateMessage.build(change, key: key, maxMessageBytes: maxMessageBytes) {
        case .success(let built): messages = built
        case .failure(var error):
            error.message = "\(context): \(error.message)"
            return .failure(error)
        }
        var report = DNSUpdateReport(
            zone: change.zone, server: server.description, keyName: key.name, deletions: change.deletions.count,
            additions: change.additions.count, messages: [])
        if messages.count > 1 {
            logger.notice(
                "dns: the UPDATE of \(change.zone) exceeds \(maxMessageBytes) bytes; sending it as \(messages.count) messages",
                metadata: ["dns.zone": "\(change.zone)", "dns.server": "\(server)"])
        }
        for (index, message) in messages.enumerated() {
            switch exchange(message, server: server, key: key, zone: change.zone, context: context) {
            case .success(let sent):
                report.messages.append(sent)
                logger.info(
                    "dns: UPDATE \(index + 1)/\(messages.count) of \(change.zone) applied by \(server)",
                    metadata: [
                        "dns.zone": "\(change.zone)", "dns.server": "\(server)", "dns.key": "\(key.name)",
                        "dns.records": "\(message.records)", "dns.transport": "\(sent.transport.rawValue)",
                        "dns.bytes": "\(sent.bytes)",
                    ])
            case .failure(var error):
                error.messagesApplied = index
                if messages.count > 1 {
                    error.message += " (\(index) of the \(messages.count) messages of this change were applied before)"
                }
                return .failure(error)
            }
        }
        return .success(report)
    }

    /// `send(_:to:key:)` on a thread of its own, off the cooperative pool (`DispatchQueue.global()` is that
    /// pool: a blocked send there would hold one of its few threads).
    public func send(_ change: DNSZoneChange, to server: NameserverAddress, key: TSIGKey) async
        -> Result<DNSUpdateReport, DNSUpdateError>
    {
        await ConcurrentMap.offPool { self.send(change, to: server, key: key) }
    }

    // MARK: one message

    private func exchange(
        _ message: DNSUpdateMessage.Signed, server: NameserverAddress, key: TSIGKey, zone: String, context: String
    ) -> Result<DNSUpdateReport.Message, DNSUpdateError> {
        let transport = DNSMessageTransport(timeoutSeconds: timeoutSeconds)
        var tcpReason: String?
        if message.wire.count > DNSUpdateMessage.udpLimit {
            tcpReason = "over \(DNSUpdateMessage.udpLimit) bytes"
        } else {
            switch transport.exchangeUDP(message.wire, id: message.id, server: server) {
            case .success(let answer):
                if answer.count > 2, answer[2] & 0x02 != 0 {
                    tcpReason = "the UDP answer was truncated"
                } else {
                    return interpret(answer, request: message, key: key, zone: zone, context: context).map {
                        DNSUpdateReport.Message(bytes: message.wire.count, records: message.records, transport: .udp)
                    }
                }
            case .failure(.refused):
                return .failure(refused(server, context: context))
            case .failure(.timeout):
                tcpReason = "no UDP answer within \(Self.seconds(timeoutSeconds))"
            case .failure(.other(let text)):
                return .failure(DNSUpdateError(.network, "\(context) failed over UDP: \(text)"))
            }
        }
        switch transport.exchangeTCP(message.wire, id: message.id, server: server) {
        case .success(let answer):
            return interpret(answer, request: message, key: key, zone: zone, context: context).map {
                DNSUpdateReport.Message(
                    bytes: message.wire.count, records: message.records, transport: .tcp, tcpReason: tcpReason)
            }
        case .failure(.refused):
            if tcpReason?.hasPrefix("no UDP answer") == true {
                return .failure(
                    DNSUpdateError(
                        .timeout,
                        "\(context) got no answer over UDP within \(Self.seconds(timeoutSeconds)) and TCP connections "
                            + "are refused: is a DNS server running at \(server)? Check [[dns_primary]] server and port"
                    ))
            }
            return .failure(refused(server, context: context))
        case .failure(.timeout):
            return .failure(
                DNSUpdateError(
                    .timeout,
                    "\(context) got no answer within \(Self.seconds(timeoutSeconds)) over "
                        + (message.wire.count > DNSUpdateMessage.udpLimit ? "TCP" : "UDP nor TCP")
                        + ": is the server running and reachable at that address and port?"))
        case .failure(.other(let text)):
            return .failure(DNSUpdateError(.network, "\(context) failed over TCP: \(text)"))
        }
    }

    private func refused(_ server: NameserverAddress, context: String) -> DNSUpdateError {
        DNSUpdateError(
            .connectionRefused,
            "\(context) failed: connection refused, no DNS server listens at \(server); check [[dns_primary]] "
                + "server and port, and that the server runs")
    }

    /// The outcome of an answer: NOERROR with a verified TSIG, or the mapped error.
    private func interpret(
        _ answer: [UInt8], request: DNSUpdateMessage.Signed, key: TSIGKey, zone: String, context: String
    ) -> Result<Void, DNSUpdateError> {
        var parsed: UnsafeMutablePointer<ldns_pkt>? = nil
        let status = ldns_wire2pkt(&parsed, answer, answer.count)
        guard status == LDNS_STATUS_OK, let packet = parsed else {
            return .failure(
                DNSUpdateError(
                    .network, "\(context): the answer is not a DNS message (\(PinnedResolver.statusText(status)))"))
        }
        defer { ldns_pkt_free(packet) }
        guard ldns_pkt_qr(packet), ldns_pkt_get_opcode(packet) == LDNS_PACKET_UPDATE else {
            return .failure(DNSUpdateError(.network, "\(context): the answer is not an UPDATE response"))
        }
        let rcode = ldns_pkt_get_rcode(packet)
        let tsigCode = ldns_pkt_tsig(packet).flatMap(DNSUpdateMessage.tsigError)
        let tsigName = tsigCode.flatMap { $0 == 0 ? nil : DNSUpdateMessage.tsigErrorName($0) }
        let rcodeName = PinnedResolver.rcodeText(rcode)
        let rejected = "\(context) was rejected (\(rcodeName)" + (tsigName.map { ", TSIG \($0)" } ?? "") + ")"
        switch rcode {
        case LDNS_RCODE_NOERROR:
            guard verify(packet, answer: answer, request: request, key: key) else {
                return .failure(
                    DNSUpdateError(
                        .unverifiedResponse,
                        "\(context) was answered NOERROR without a valid TSIG signature of key \"\(key.name)\": the "
                            + "answer cannot be trusted and the change may or may not be applied; check that the server "
                            + "uses the same key"))
            }
            return .success(())
        case LDNS_RCODE_REFUSED:
            return .failure(
                DNSUpdateError(
                    .refused,
                    "\(rejected): the server does not let key \"\(key.name)\" change these records in \(zone); "
                        + "allow it to update TXT and TLSA records there (BIND update-policy, Knot acl action update)",
                    tsigError: tsigName))
        case LDNS_RCODE_NOTAUTH:
            let why: String
            switch tsigCode {
            case 16:
                why =
                    "the server knows key \"\(key.name)\" with another secret; use the server's key file as tsig_key_file"
            case 17:
                why =
                    "the server has no key \"\(key.name)\" with algorithm \(key.algorithm.rawValue); check the key's name "
                    + "and algorithm in tsig_key_file against the server's configuration"
            case 18:
                why =
                    "the clocks of this machine and of the server differ by more than \(DNSUpdateMessage.fudgeSeconds) s; "
                    + "synchronise them (NTP)"
            default:
                why =
                    "the server is not authoritative for zone \(zone) or takes no updates for it; check that "
                    + "[[dns_primary]] names the zone's primary and that it serves the zone"
            }
            return .failure(DNSUpdateError(.notAuthorized, "\(rejected): \(why)", tsigError: tsigName))
        case LDNS_RCODE_NOTZONE:
            return .failure(
                DNSUpdateError(
                    .notZone,
                    "\(rejected): a record is outside the zone \(zone) as the server has it; check that "
                        + "\(zone) is the zone's apex",
                    tsigError: tsigName))
        case LDNS_RCODE_SERVFAIL:
            return .failure(
                DNSUpdateError(
                    .serverFailure,
                    "\(rejected): the server failed to apply the update (is zone \(zone) loaded?); see its log",
                    tsigError: tsigName))
        default:
            return .failure(DNSUpdateError(.otherRcode, "\(rejected); see the server's log", tsigError: tsigName))
        }
    }

    private func verify(
        _ packet: UnsafeMutablePointer<ldns_pkt>, answer: [UInt8], request: DNSUpdateMessage.Signed, key: TSIGKey
    ) -> Bool {
        guard let tsig = ldns_pkt_tsig(packet), let owner = ldns_rr_owner(tsig),
            let keyName = ldns_dname_new_frm_str(key.name + ".")
        else { return false }
        defer { ldns_rdf_deep_free(keyName) }
        guard ldns_dname_compare(owner, keyName) == 0,
            let mac = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_INT16_DATA, request.requestMAC.count, request.requestMAC)
        else { return false }
        defer { ldns_rdf_deep_free(mac) }
        return ldns_pkt_tsig_verify(packet, answer, answer.count, key.name + ".", key.secret.base64, mac)
    }

    static func seconds(_ value: Double) -> String {
        value == value.rounded() ? "\(Int(value)) s" : "\(value) s"
    }
}
