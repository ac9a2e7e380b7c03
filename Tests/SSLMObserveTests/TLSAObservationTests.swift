import Foundation
import SSLMConfig
import SSLMCore
@testable import SSLMObserve
import SSLMPKI
import Testing
import X509

@Suite("TLSA: built file, expected vs published")
struct TLSAObservationTests {
    static let apex = "example.com"
    static let goodDNS = DNSFacts(apex: apex, mxHosts: ["mx2.example.com", "mx1.example.com"], failure: nil)
    static let failedDNS = DNSFacts(apex: apex, mxHosts: nil, failure: "MX example.com at 127.0.0.1:5053: no answer")

    /// mail: curr + next; web: curr only.
    func fixture() throws -> (ObserveFixture, [String: Certificate]) {
        let f = try ObserveFixture()
        var leaves: [String: Certificate] = [:]
        leaves["mail curr"] = try f.makeDBDir(ObserveFixture.mail, ts1)
        leaves["mail next"] = try f.makeDBDir(ObserveFixture.mail, ts2)
        leaves["web curr"] = try f.makeDBDir(ObserveFixture.web, ts1)
        try f.link(ObserveFixture.mail, "curr", ts1)
        try f.link(ObserveFixture.mail, "next", ts2)
        try f.link(ObserveFixture.web, "curr", ts1)
        return (f, leaves)
    }

    func build(_ f: ObserveFixture, dns: DNSFacts?, existing: String? = nil, rolling: Bool = false) throws
        -> TLSAFileBuilder.Output
    {
        TLSAFileBuilder.build(
            apex: Self.apex, config: try f.config(), dns: dns, existingFile: existing, rolling: rolling)
    }

    @Test("content: sections per service and slot, apex + MX owners, apex + SAN owners, TTLs")
    func content() throws {
        let (f, leaves) = try fixture()
        let output = try build(f, dns: Self.goodDNS)
        #expect(output.note == nil)
        #expect(output.warnings.isEmpty)
        let content = try #require(output.content)
        func spki(_ key: String) throws -> String {
            try TLSARecordData.hex(for: try #require(leaves[key]), selector: 1, matchingType: 1)
        }
        let mailCurr = try spki("mail curr")
        let mailNext = try spki("mail next")
        let web = try spki("web curr")
        let expected = """
            ;;
            ;; TLSA example.com : phase = normal
            ;;
            ;;
            ;; mail curr
            ;;
            _25._tcp.example.com. 1800  IN TLSA 3 1 1 \(mailCurr)
            _25._tcp.mx1.example.com. 1800  IN TLSA 3 1 1 \(mailCurr)
            _25._tcp.mx2.example.com. 1800  IN TLSA 3 1 1 \(mailCurr)
            ;;
            ;; mail next
            ;;
            _25._tcp.example.com. 1800  IN TLSA 3 1 1 \(mailNext)
            _25._tcp.mx1.example.com. 1800  IN TLSA 3 1 1 \(mailNext)
            _25._tcp.mx2.example.com. 1800  IN TLSA 3 1 1 \(mailNext)
            ;;
            ;; web curr
            ;;
            _443._tcp.example.com. 600  IN TLSA 3 1 1 \(web)
            _443._tcp.www.example.com. 600  IN TLSA 3 1 1 \(web)


            """
        #expect(content == expected)
        #expect(try build(f, dns: Self.goodDNS, rolling: true).content?.contains("phase = roll next to curr") == true)
    }

    @Test("expected equals the file after writing the built content; a record edit differs; a comment edit does not")
    func expectedVersusFile() throws {
        let (f, _) = try fixture()
        let file = "certs/example.com/tlsa.example.com"
        var group = try #require(try f.observe(dns: [Self.goodDNS]).group(Self.apex))
        #expect(group.tlsaFile == nil)
        #expect(group.tlsaExpected != nil)
        let none: String? = nil
        #expect(group.tlsaCopies == ["\(f.path)/dns/tlsa": none])

        let content = try #require(try build(f, dns: Self.goodDNS).content)
        try f.write(file, content)
        group = try #require(try f.observe(dns: [Self.goodDNS]).group(Self.apex))
        #expect(group.tlsaFile == group.tlsaExpected)
        #expect(group.tlsaNote == nil)

        // Only a comment and spacing change: still equal.
        try f.write(
            file,
            content.replacingOccurrences(of: "phase = normal", with: "edited by hand")
                .replacingOccurrences(of: "1800  IN", with: "1800 IN") + "; trailing comment\n\n")
        group = try #require(try f.observe(dns: [Self.goodDNS]).group(Self.apex))
        #expect(group.tlsaFile == group.tlsaExpected)

        // One record changed: different.
        let lines = content.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let index = try #require(lines.firstIndex { $0.hasPrefix("_443._tcp.www") })
        var edited = lines
        edited[index] = String(edited[index].dropLast()) + (edited[index].hasSuffix("0") ? "1" : "0")
        try f.write(file, edited.joined(separator: "\n"))
        group = try #require(try f.observe(dns: [Self.goodDNS]).group(Self.apex))
        #expect(group.tlsaFile != nil && group.tlsaFile != group.tlsaExpected)

        // A different MX set from DNS: the expectation changes.
        try f.write(file, content)
        let moved = DNSFacts(apex: Self.apex, mxHosts: ["mx1.example.com", "mx3.example.com"], failure: nil)
        group = try #require(try f.observe(dns: [moved]).group(Self.apex))
        #expect(group.tlsaFile != group.tlsaExpected)
    }

    @Test("published copies and the production copy are digested the same way")
    func copies() throws {
        let (f, _) = try fixture()
        let content = try #require(try build(f, dns: Self.goodDNS).content)
        try f.write("certs/example.com/tlsa.example.com", content)
        try f.write("dns/tlsa/tlsa.example.com", content)
        try f.write("prod/example.com/tlsa.example.com", content.replacingOccurrences(of: "mail curr", with: "x"))
        let observation = try f.observe(dns: [Self.goodDNS])
        let group = try #require(observation.group(Self.apex))
        #expect(group.tlsaCopies["\(f.path)/dns/tlsa"] == .some(group.tlsaFile))
        #expect(observation.production.tlsaFiles[Self.apex] == .some(group.tlsaFile))
        #expect(observation.group("ca") == nil)  // no DANE service
    }

    @Test("DNS facts unavailable: the published MX owners are kept, with a note", arguments: [true, false])
    func dnsFailure(gathered: Bool) throws {
        let (f, _) = try fixture()
        let published = try #require(try build(f, dns: Self.goodDNS).content)
        try f.write("certs/example.com/tlsa.example.com", published)
        let dns = gathered ? [Self.failedDNS] : []
        let group = try #require(try f.observe(dns: dns).group(Self.apex))
        #expect(group.tlsaExpected == group.tlsaFile)
        let note = try #require(group.tlsaNote)
        #expect(note.hasPrefix("DNS facts for example.com unavailable ("))
        #expect(note.hasSuffix("kept the published TLSA owners mx1.example.com, mx2.example.com"))
        if gathered { #expect(note.contains("no answer")) } else { #expect(note.contains("not gathered")) }
        // The builder gives the same content as when DNS answered (same records).
        let kept = try build(f, dns: gathered ? Self.failedDNS : nil, existing: published)
        #expect(kept.normalisedDigest == TLSAFileBuilder.normalisedDigest(of: published))
    }

    @Test("DNS unavailable and nothing published: apex records only, and the note says so")
    func dnsFailureNothingPublished() throws {
        let (f, _) = try fixture()
        let output = try build(f, dns: Self.failedDNS)
        let content = try #require(output.content)
        #expect(!content.contains("mx1"))
        #expect(content.contains("_25._tcp.example.com."))
        #expect(output.note?.contains("no published TLSA owners to keep") == true)
    }

    @Test("no certificate for any DANE service: no content, no expectation")
    func noCertificates() throws {
        let f = try ObserveFixture()
        let output = try build(f, dns: Self.goodDNS)
        #expect(output.content == nil)
        let group = try #require(try f.observe(dns: [Self.goodDNS]).group(Self.apex))
        #expect(group.tlsaExpected == nil && group.tlsaFile == nil)
    }

    @Test("a broken curr certificate is a warning, the other sections are still built")
    func brokenCertificate() throws {
        let (f, _) = try fixture()
        try f.write("certs/example.com/web/db/\(ts1)/cert.pem", "-----BEGIN CERTIFICATE-----\nAAAA\n")
        let output = try build(f, dns: Self.goodDNS)
        #expect(output.warnings.count == 1)
        #expect(output.content?.contains(";; mail next") == true)
        #expect(output.content?.contains(";; web curr") == false)
    }

    @Test("normalised digest ignores comments, blank lines, spacing and order; not record content")
    func normalisedDigest() {
        let a = "; header\n_25._tcp.a. 300  IN TLSA 3 1 1 aa\n\n_25._tcp.b. 300 IN TLSA 3 1 1 bb\n"
        let b =
            ";; other header\n  _25._tcp.b.\t300 IN  TLSA 3 1 1 bb  \n;; _25._tcp.c. 1 IN TLSA 3 1 1 cc\n_25._tcp.a. 300 IN TLSA 3 1 1 aa"
        #expect(TLSAFileBuilder.normalisedDigest(of: a) == TLSAFileBuilder.normalisedDigest(of: b))
        let c = a.replacingOccurrences(of: "bb", with: "bc")
        #expect(TLSAFileBuilder.normalisedDigest(of: a) != TLSAFileBuilder.normalisedDigest(of: c))
        // A split rdata stays one record.
        let split = "_25._tcp.a. 300 IN TLSA ( 3 1 2\n                    0011\n                    2233 )\n"
        #expect(TLSAFileBuilder.normalisedRecords(of: split) == ["_25._tcp.a. 300 IN TLSA ( 3 1 2 0011 2233 )"])
    }

    /// The byte path for ASCII text gives the records the `Character` path gives: CR LF, lone CR, VT and
    /// FF line ends, tabs, leading white space (continuation), comments with and without indentation.
    @Test(
        "ASCII records by bytes equal the Character path",
        arguments: [
            "; h\r\n_25._tcp.a. 300 IN TLSA 3 1 1 aa\r\n\r\n  0011\r_b. 1 IN TLSA 3 1 1 bb\u{0B}c d\u{0C}\te f",
            "\n\n  leading continuation first\n;x\n\t;y\nz\t \t w  \n",
            "a b\n \n\t\nc ; not a comment\n  ; indented comment\nd",
            "", " ", "\r\n", ";only",
        ])
    func asciiRecords(text: String) throws {
        let fast = try #require(TLSAFileBuilder.asciiNormalisedRecords(of: text))
        #expect(fast == TLSAFileBuilder.characterNormalisedRecords(of: text))
        #expect(TLSAFileBuilder.asciiNormalisedRecords(of: "a\u{2028}b") == nil)
        #expect(TLSAFileBuilder.normalisedRecords(of: "a\u{2028}b") == ["a", "b"])
    }
}
