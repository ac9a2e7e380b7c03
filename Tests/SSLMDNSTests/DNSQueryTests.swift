import Foundation
import SSLMTestSupport
import SSLMCore
import SSLMDNS
import Testing

extension TestbedSuites {
    @Suite("DNSQuery against the nsd test bed")
    struct DNSQueryTests {
        let query = DNSQuery(timeoutSeconds: 1, retries: 1)

        @Test("SOA serial, NS names, A/AAAA and MX hosts as the primary serves them")
        func zoneFacts() throws {
            let bed = try DNSTestbed()
            let primary = try bed.primary
            #expect(try query.soaSerial("example.com.", at: primary).get() == bed.recordedSerial("example.com"))
            #expect(try query.nameservers("Example.com", at: primary).get() == ["ns1.example.com", "ns2.example.com"])
            #expect(try query.addresses("ns1.example.com", at: primary).get() == ["127.0.0.1", "::1"])
            #expect(try query.addresses("ns2.example.com", at: primary).get() == ["127.0.0.2"])
            #expect(try query.addresses("c17.example.com", at: primary).get() == ["127.0.0.1"])
            #expect(try query.addresses("x.c03.example.com", at: primary).get() == ["127.0.0.1"])  // wildcard
            #expect(
                try MXLookup(timeoutSeconds: 1).mxHosts(apex: "example.com", server: primary).get()
                    == ["mail.example.com", "mx2.example.com", "smtp.example.com"])
            guard case .failure(let error) = query.soaSerial("www.example.com", at: primary) else {
                Issue.record("a name inside the zone has no SOA of its own")
                return
            }
            #expect(error.kind == .serverError)
        }

        @Test("TXT after writing the acme-challenge file and refreshing; NXDOMAIN and NODATA are empty")
        func txtAfterRefresh() throws {
            let bed = try DNSTestbed()
            let primary = try bed.primary
            #expect(try query.txt("_acme-challenge.example.com", at: primary).get() == [])  // NODATA (wildcard)
            #expect(try query.txt("nothing.www.example.com", at: primary).get() == [])  // NXDOMAIN
            let long = String(repeating: "0123456789", count: 9)
            try bed.writeACME(
                "example.com",
                ACMEChallengeZoneFile.render(
                    apex: "example.com",
                    records: [
                        ACMEChallengeRecord(domain: "*.example.com", value: "wild-value"),
                        ACMEChallengeRecord(domain: "example.com", value: "base-value"),
                        ACMEChallengeRecord(domain: "www.example.com", value: long),
                    ]))
            let before = try bed.recordedSerial("example.com")
            try bed.refresh()
            #expect(try bed.recordedSerial("example.com") > before)
            #expect(try query.soaSerial("example.com", at: primary).get() == bed.recordedSerial("example.com"))
            #expect(
                try query.txt("_acme-challenge.example.com", at: primary).get().sorted() == [
                    "base-value", "wild-value",
                ])
            #expect(try query.txt("_acme-challenge.www.example.com", at: primary).get() == [long])
        }

        @Test("TLSA after writing the TLSA include file and refreshing")
        func tlsaAfterRefresh() throws {
            let bed = try DNSTestbed()
            let hex = String(repeating: "ab01", count: 16)
            try bed.writeTLSA(
                "example.com",
                ";;\n;; TLSA example.com : phase = normal\n;;\n_25._tcp.mail.example.com. 1800  IN TLSA 3 1 1 \(hex.uppercased())\n"
                    + "_25._tcp.mail.example.com. 1800  IN TLSA 2 0 1 \(String(repeating: "cd", count: 32))\n")
            try bed.refresh()
            let records = try query.tlsa("_25._tcp.mail.example.com", at: bed.primary).get()
            #expect(
                records == [
                    DNSTLSARecord(usage: 2, selector: 0, matchingType: 1, dataHex: String(repeating: "cd", count: 32)),
                    DNSTLSARecord(usage: 3, selector: 1, matchingType: 1, dataHex: hex),
                ])
            #expect(try query.tlsa("_443._tcp.www.example.com", at: bed.primary).get() == [])
        }

        @Test("a closed port fails with the server in the message")
        func closedPort() throws {
            let server = NameserverAddress(host: "127.0.0.1", port: LoopbackPorts.unusedUDP())
            let result = DNSQuery(timeoutSeconds: 0.3, retries: 0).txt("_acme-challenge.example.com", at: server)
            guard case .failure(let error) = result else {
                Issue.record("expected a failure, got \(result)")
                return
            }
            #expect(error.kind == .network)
            #expect(error.message.contains("127.0.0.1:\(server.port)"))
            #expect(error.message.contains("_acme-challenge.example.com"))
        }

        @Test("a host name as the server is refused without a query")
        func hostName() {
            guard
                case .failure(let error) = query.soaSerial(
                    "example.com", at: NameserverAddress(host: "ns1.example.com"))
            else {
                Issue.record("expected a failure")
                return
            }
            #expect(error.kind == .badServer)
        }
    }
}
