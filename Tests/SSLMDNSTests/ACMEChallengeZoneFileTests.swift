import SSLMDNS
import Testing

@Suite("dns-01 include file (ssl-mgr §3.8)")
struct ACMEChallengeZoneFileTests {
    static let long = String(repeating: "abcdefghij", count: 8) + "XYZ"  // 83 characters

    @Test("golden text: comments, sorted rows, wildcard and base on one owner, a long value chunked")
    func golden() {
        let text = ACMEChallengeZoneFile.render(
            apex: "Example.COM.",
            records: [
                ACMEChallengeRecord(domain: "www.example.com", value: "wwwValue"),
                ACMEChallengeRecord(domain: "*.example.com", value: "wildValue"),
                ACMEChallengeRecord(domain: "example.com", value: "baseValue"),
                ACMEChallengeRecord(domain: "api.example.com", value: Self.long),
                ACMEChallengeRecord(domain: "www.example.com", value: "wwwValue"),
            ])
        let indent = String(repeating: " ", count: 20)
        let expected = """
            ;; acme-challenge for : example.com
            ;; acme-challenge : example.com
            _acme-challenge.api.example.com. 60 IN TXT (
            \(indent)"\(String(Self.long.prefix(72)))"
            \(indent)"\(String(Self.long.dropFirst(72)))" )
            _acme-challenge.example.com. 60 IN TXT "baseValue"
            _acme-challenge.example.com. 60 IN TXT "wildValue"
            _acme-challenge.www.example.com. 60 IN TXT "wwwValue"

            """
        #expect(text == expected)
    }

    @Test("the cleared file is the two comment lines and counts no rows")
    func cleared() {
        let text = ACMEChallengeZoneFile.render(apex: "example.net", records: [])
        #expect(text == ";; acme-challenge for : example.net\n;; acme-challenge : example.net\n")
        #expect(ACMEChallengeZoneFile.recordCount(in: text) == 0)
    }

    @Test(
        "recordCount counts TXT rows, chunked or not, with any whitespace",
        arguments: [
            ("_acme-challenge.a.example.com. 60 IN TXT \"x\"\n", 1),
            ("_acme-challenge.a.example.com.\t60\tin\ttxt\t\"x\"\n_acme-challenge.b.example.com. TXT \"y\"\n", 2),
            (";; _acme-challenge.a.example.com. 60 IN TXT \"x\"\n\n", 0),
            (
                "_acme-challenge.a.example.com. 60 IN TXT (\n                    \"aa\"\n                    \"bb\" )\n",
                1
            ),
            ("www.example.com. 60 IN A 127.0.0.1\n", 0),
        ])
    func count(text: String, rows: Int) {
        #expect(ACMEChallengeZoneFile.recordCount(in: text) == rows)
    }

    @Test("a rendered file counts its distinct rows")
    func countRendered() {
        let records = (1...5).map { ACMEChallengeRecord(domain: "c0\($0).example.com", value: "v\($0)") }
        let text = ACMEChallengeZoneFile.render(apex: "example.com", records: records + [records[0]])
        #expect(ACMEChallengeZoneFile.recordCount(in: text) == 5)
    }

    @Test("values that cannot be written unescaped are left out")
    func unpublishable() {
        #expect(!ACMEChallengeZoneFile.isPublishable("a\"b"))
        #expect(!ACMEChallengeZoneFile.isPublishable(""))
        #expect(ACMEChallengeZoneFile.isPublishable("Zm9vYmFy-_"))
        let text = ACMEChallengeZoneFile.render(
            apex: "example.com", records: [ACMEChallengeRecord(domain: "example.com", value: "bad\"value")])
        #expect(ACMEChallengeZoneFile.recordCount(in: text) == 0)
    }

    @Test("owner names: wildcard stripped, lowercase, no trailing dot")
    func owner() {
        #expect(ACMEChallengeRecord(domain: "*.Example.com.", value: "v").ownerName == "_acme-challenge.example.com")
        #expect(
            ACMEChallengeRecord(domain: "www.example.com", value: "v").ownerName == "_acme-challenge.www.example.com")
    }
}

@Suite("RFC 1982 serial comparison")
struct SOASerialTests {
    @Test(
        "isAtLeast",
        arguments: [
            (UInt32(2_026_112_903), UInt32(2_026_112_903), true),
            (2_026_112_904, 2_026_112_903, true),
            (2_026_112_901, 2_026_112_903, false),
            (5, 4_294_967_290, true),  // wrapped past 2^32 - 1: newer
            (4_294_967_290, 5, false),
            (0x8000_0000, 0, false),  // exactly 2^31 apart: incomparable
        ])
    func compare(serial: UInt32, reference: UInt32, expected: Bool) {
        #expect(SOASerial.isAtLeast(serial, reference) == expected)
    }
}
