import Foundation
import SSLMDNS
import Testing

/// The exec provider contract, version 1 (Docs/dns-providers.md): exactly these bytes, since provider
/// scripts are written against them.
@Suite("exec DNS provider: the JSON document")
struct DNSProviderRequestTests {
    static let tlsa = DNSTLSARecord(usage: 3, selector: 1, matchingType: 1, dataHex: "ABCD")

    @Test("challenges: present, then cleanup; absolute lower-case names, TXT without quotes")
    func challenges() {
        let record = DNSUpdateRecord.txt("_acme-challenge.WWW.Example.com.", "va\"lue/1", ttl: 60)
        let present = DNSProviderRequest.requests(for: DNSZoneChange(zone: "Example.com", additions: [record]))
        #expect(present.map(\.operation) == [.present])
        #expect(
            present.first?.json
                == #"{"operation":"present","records":[{"owner":"_acme-challenge.www.example.com.","ttl":60,"#
                + #""type":"TXT","value":"va\"lue/1"}],"version":1,"zone":"example.com."}"#)
        let cleanup = DNSProviderRequest.requests(for: DNSZoneChange(zone: "example.com", deletions: [record]))
        #expect(cleanup.map(\.operation) == [.cleanup])
    }

    @Test("TLSA: tlsa-publish for additions, then tlsa-withdraw for deletions; rdata as '3 1 1 <hex>'")
    func tlsaChange() throws {
        let added = DNSUpdateRecord.tlsa("_25._tcp.mail.example.com", Self.tlsa, ttl: 300)
        let removed = DNSUpdateRecord.tlsa(
            "_25._tcp.mail.example.com", DNSTLSARecord(usage: 3, selector: 1, matchingType: 1, dataHex: "ef"))
        let requests = DNSProviderRequest.requests(
            for: DNSZoneChange(zone: "example.com.", deletions: [removed], additions: [added]))
        #expect(requests.map(\.operation) == [.tlsaPublish, .tlsaWithdraw])
        let document = try #require(
            try JSONSerialization.jsonObject(with: Data((requests.first?.json ?? "").utf8)) as? [String: Any])
        #expect(document["version"] as? Int == 1 && document["zone"] as? String == "example.com.")
        #expect(document["operation"] as? String == "tlsa-publish")
        let records = try #require(document["records"] as? [[String: Any]])
        #expect(records.count == 1)
        #expect(records.first?["owner"] as? String == "_25._tcp.mail.example.com.")
        #expect(records.first?["type"] as? String == "TLSA" && records.first?["value"] as? String == "3 1 1 abcd")
        #expect(records.first?["ttl"] as? Int == 300)
    }

    @Test("an empty change asks the provider nothing")
    func empty() {
        #expect(DNSProviderRequest.requests(for: DNSZoneChange(zone: "example.com")).isEmpty)
    }
}
