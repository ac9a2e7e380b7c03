import Foundation
import SSLMConfig
import SSLMCore
import SSLMDNS
import SSLMTestSupport
import Testing

/// DNS UPDATE messages built and signed by `DNSUpdateMessage`, read back with libldns: no server needed.
@Suite("DNS UPDATE messages (RFC 2136 + TSIG), built and read back")
struct DNSUpdateMessageTests {
    static let key = TSIGKey(
        name: "sslm-test", algorithm: .hmacSHA256,
        secret: TSIGSecret(base64: Data((0..<32).map { UInt8($0) }).base64EncodedString()))
    static let hex = String(repeating: "0f", count: 32)

    @Test("zone section, deletions (class NONE, TTL 0) before additions (class IN), a TSIG record; no prerequisites")
    func sections() throws {
        let change = DNSZoneChange(
            zone: "Example.COM.",
            deletions: [.txt("_acme-challenge.example.com", "old-value")],
            additions: [
                .txt("_acme-challenge.example.com", "new-value"), .txt("_acme-challenge.www.example.com", "www-value"),
                .tlsa(
                    "_25._tcp.mail.example.com",
                    DNSTLSARecord(usage: 3, selector: 1, matchingType: 1, dataHex: Self.hex)),
            ])
        let messages = try DNSUpdateMessage.build(change, key: Self.key).get()
        #expect(messages.count == 1)
        let message = try #require(messages.first)
        #expect(message.records == 4)
        #expect(message.wire.count < DNSUpdateMessage.udpLimit)
        let decoded = try DNSUpdateMessage.decode(message.wire).get()
        #expect(decoded.opcode == "UPDATE")
        #expect(!decoded.isResponse && !decoded.recursionDesired)
        #expect(decoded.id == message.id)
        #expect(decoded.zone.map(\.description) == ["example.com. 0 IN SOA"])
        #expect(decoded.prerequisites.isEmpty)
        #expect(decoded.additional.isEmpty)
        #expect(
            decoded.updates.map(\.description) == [
                "_acme-challenge.example.com. 0 NONE TXT \"old-value\"",
                "_acme-challenge.example.com. 60 IN TXT \"new-value\"",
                "_acme-challenge.www.example.com. 60 IN TXT \"www-value\"",
                "_25._tcp.mail.example.com. 300 IN TLSA 3 1 1 \(Self.hex)",
            ])
        #expect(decoded.tsigKeyName == "sslm-test.")
        #expect(decoded.tsigAlgorithm == "hmac-sha256.")
        #expect(decoded.tsigError == 0)
    }

    @Test("deleting exactly a TLSA record by value: class NONE with its rdata, never a whole RRset (class ANY)")
    func deleteByValue() throws {
        let change = DNSZoneChange(
            zone: "example.com",
            deletions: [
                .tlsa(
                    "_25._tcp.mail.example.com",
                    DNSTLSARecord(usage: 3, selector: 1, matchingType: 1, dataHex: Self.hex))
            ])
        let decoded = try DNSUpdateMessage.decode(
            try #require(DNSUpdateMessage.build(change, key: Self.key).get().first).wire
        )
        .get()
        #expect(decoded.updates.count == 1)
        #expect(decoded.updates.allSatisfy { $0.rrClass == "NONE" && $0.ttl == 0 && !$0.rdata.isEmpty })
        #expect(!decoded.updates.contains { $0.rrClass == "ANY" })
    }

    @Test("a value over 255 bytes is sent as several character strings of one record; quotes are kept")
    func longAndQuotedTXT() throws {
        let long = String(repeating: "x", count: 300)
        let change = DNSZoneChange(
            zone: "example.com", additions: [.txt("a.example.com", long), .txt("b.example.com", "say \"hi\"")])
        let decoded = try DNSUpdateMessage.decode(
            try #require(DNSUpdateMessage.build(change, key: Self.key).get().first).wire
        )
        .get()
        #expect(
            decoded.updates.first?.rdata
                == "\"\(String(repeating: "x", count: 255))\" \"\(String(repeating: "x", count: 45))\"")
        #expect(decoded.updates.last?.rdata == "\"say \\\"hi\\\"\"")
    }

    @Test("repeated records are sent once; an empty change sends nothing")
    func duplicatesAndEmpty() throws {
        let record = DNSUpdateRecord.txt("_acme-challenge.example.com", "v")
        let messages = try DNSUpdateMessage.build(
            DNSZoneChange(zone: "example.com", additions: [record, record, .txt("_acme-challenge.EXAMPLE.com.", "v")]),
            key: Self.key
        ).get()
        #expect(messages.map(\.records) == [1])
        #expect(try DNSUpdateMessage.build(DNSZoneChange(zone: "example.com"), key: Self.key).get().isEmpty)
    }

    @Test("a change over the safe size is split, each message signed and below the size, deletions first")
    func split() throws {
        let additions = (0..<60).map {
            DNSUpdateRecord.txt("_acme-challenge.c\($0).example.com", String(repeating: "v", count: 43))
        }
        let deletions = (0..<20).map { DNSUpdateRecord.txt("_acme-challenge.c\($0).example.com", "old\($0)") }
        let change = DNSZoneChange(zone: "example.com", deletions: deletions, additions: additions)
        let messages = try DNSUpdateMessage.build(change, key: Self.key, maxMessageBytes: 1024).get()
        #expect(messages.count > 1)
        #expect(messages.map(\.records).reduce(0, +) == 80)
        var seen: [DNSUpdateMessage.Decoded.Entry] = []
        for message in messages {
            #expect(message.wire.count <= 1024)
            let decoded = try DNSUpdateMessage.decode(message.wire).get()
            #expect(decoded.tsigKeyName == "sslm-test." && decoded.zone.count == 1)
            seen += decoded.updates
        }
        #expect(seen.prefix(20).allSatisfy { $0.rrClass == "NONE" })
        #expect(seen.dropFirst(20).allSatisfy { $0.rrClass == "IN" })
        #expect(Set(messages.map(\.id)).count == messages.count)
        // the same change in one message by default, over TCP's reach (more than 512 bytes)
        let whole = try DNSUpdateMessage.build(change, key: Self.key).get()
        #expect(whole.count == 1 && (whole.first?.wire.count ?? 0) > DNSUpdateMessage.udpLimit)
    }

    @Test("records from a dns-01 challenge (a wildcard at its base name) and from a DANE record")
    func conversions() throws {
        let wildcard = DNSUpdateRecord(challenge: ACMEChallengeRecord(domain: "*.Example.com", value: "digest"))
        #expect(wildcard == .txt("_acme-challenge.example.com", "digest", ttl: 60))
        let dane = try #require(
            DNSUpdateRecord(
                dane: DANERecord(owner: "_25._tcp.mail.example.com.", ttl: 1800, rdata: "3 1 1 \(Self.hex)")))
        #expect(dane.description == "_25._tcp.mail.example.com. 1800 TLSA 3 1 1 \(Self.hex)")
        #expect(DNSUpdateRecord(dane: DANERecord(owner: "a.example.com", ttl: nil, rdata: "3 1 1")) == nil)
        #expect(DNSUpdateRecord(dane: DANERecord(owner: "a.example.com", ttl: nil, rdata: "3 1 1 0g")) == nil)
        #expect(DNSUpdateRecord(dane: DANERecord(owner: "a.example.com", ttl: nil, rdata: "3 1 1 ab"))?.ttl == 300)
    }

    @Test("every supported algorithm signs", arguments: TSIGAlgorithm.allCases)
    func algorithms(_ algorithm: TSIGAlgorithm) throws {
        var key = Self.key
        key.algorithm = algorithm
        let message = try #require(
            try DNSUpdateMessage.build(
                DNSZoneChange(zone: "example.com", additions: [.txt("example.com", "v")]), key: key
            )
            .get().first)
        #expect(try DNSUpdateMessage.decode(message.wire).get().tsigAlgorithm == algorithm.domainName)
    }

    /// A change the client refuses before sending anything.
    struct BadCase: CustomTestStringConvertible, Sendable {
        let name: String
        let change: DNSZoneChange
        let contains: String
        var testDescription: String { name }
    }

    static let badCases: [BadCase] = [
        BadCase(
            name: "owner outside the zone",
            change: DNSZoneChange(zone: "example.com", additions: [.txt("_acme-challenge.example.net", "v")]),
            contains: "outside zone example.com"),
        BadCase(
            name: "a suffix that is not a subdomain",
            change: DNSZoneChange(zone: "example.com", additions: [.txt("badexample.com", "v")]),
            contains: "outside zone example.com"),
        BadCase(
            name: "bad owner name",
            change: DNSZoneChange(zone: "example.com", deletions: [.txt("a b.example.com", "v")]),
            contains: "not a valid owner name"),
        BadCase(
            name: "TLSA data not hex",
            change: DNSZoneChange(
                zone: "example.com",
                additions: [
                    .tlsa("_25._tcp.example.com", DNSTLSARecord(usage: 3, selector: 1, matchingType: 1, dataHex: "xyz"))
                ]),
            contains: "not a valid TLSA record"),
    ]

    @Test("invalid changes fail as badRequest before anything is sent", arguments: badCases)
    func bad(_ c: BadCase) {
        guard case .failure(let error) = DNSUpdateMessage.build(c.change, key: Self.key) else {
            Issue.record("built a message for \(c.change)")
            return
        }
        #expect(error.kind == .badRequest)
        #expect(error.message.contains(c.contains), "\(error.message)")
    }

    @Test("a host-name server is refused by the client, naming zone and key")
    func hostNameServer() {
        let client = DNSUpdateClient(logger: .init(label: "test"), timeoutSeconds: 0.2)
        let result = client.send(
            DNSZoneChange(zone: "example.com", additions: [.txt("example.com", "v")]),
            to: NameserverAddress(host: "ns1.example.com", port: 53), key: Self.key)
        guard case .failure(let error) = result else {
            Issue.record("sent to a host name")
            return
        }
        #expect(
            error.kind == .badRequest && error.message.contains("example.com") && error.message.contains("sslm-test"))
    }

    @Test("nothing listening: connection refused, naming server, zone and key")
    func connectionRefused() {
        let port = LoopbackPorts.unusedUDP()
        let client = DNSUpdateClient(logger: .init(label: "test"), timeoutSeconds: 1)
        let result = client.send(
            DNSZoneChange(zone: "example.com", additions: [.txt("_acme-challenge.example.com", "v")]),
            to: NameserverAddress(host: "127.0.0.1", port: port), key: Self.key)
        guard case .failure(let error) = result else {
            Issue.record("an UPDATE to a closed port succeeded")
            return
        }
        #expect(error.kind == .connectionRefused)
        for part in ["127.0.0.1:\(port)", "example.com", "\"sslm-test\"", "connection refused"] {
            #expect(error.message.contains(part), "\(part) not in \(error.message)")
        }
        #expect(!error.message.contains(Self.key.secret.base64))
    }
}
