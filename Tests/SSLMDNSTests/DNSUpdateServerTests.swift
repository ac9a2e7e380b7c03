import Foundation
import Logging
import SSLMConfig
import SSLMCore
import SSLMDNS
import SSLMTestSupport
import Testing

extension TestbedSuites {
    /// `DNSUpdateClient` against real servers started by the tests on loopback: Knot DNS (signing primary +
    /// secondary) and BIND 9, through the same code.
    @Suite(
        "DNS UPDATE (RFC 2136, TSIG) against Knot DNS and BIND 9", .serialized,
        .enabled(if: TestTier.full, "starts knot/named: not in make check"))
    struct DNSUpdateServerTests {
        let query = DNSQuery(timeoutSeconds: 1, retries: 1)
        let client = DNSUpdateClient(logger: Logger(label: "sslm.test.dns-update"), timeoutSeconds: 2)
        static let hexA = String(repeating: "a1", count: 32)
        static let hexB = String(repeating: "b2", count: 32)

        /// Polls `body` until it is true or 10 s have passed.
        func eventually(_ body: () throws -> Bool) rethrows -> Bool {
            let deadline = Date().addingTimeInterval(10)
            while Date() < deadline {
                if try body() { return true }
                Thread.sleep(forTimeInterval: 0.05)
            }
            return try body()
        }

        @Test(
            "TXT records added in one UPDATE are served; deleted by value, an unmanaged TXT survives",
            arguments: UpdateTestbed.Server.allCases)
        func txtAddDelete(_ server: UpdateTestbed.Server) throws {
            let bed = try UpdateTestbed(server)
            let key = try bed.key
            let primary = try bed.primary
            let unmanaged = try bed.unmanagedTXT
            let before = try bed.updatesProcessed()
            let records: [DNSUpdateRecord] = [
                .txt("_acme-challenge.example.com", "challenge-one"),
                .txt("_acme-challenge.example.com", "challenge-two"),
                .txt("_acme-challenge.www.example.com", "challenge-www"),
            ]
            let added = try client.send(DNSZoneChange(zone: "example.com", additions: records), to: primary, key: key)
                .get()
            #expect(added.messages.count == 1 && !added.split)
            #expect(added.messages.first?.transport == .udp)
            #expect(
                try query.txt("_acme-challenge.example.com", at: primary).get().sorted() == [
                    "challenge-one", "challenge-two", unmanaged,
                ])
            #expect(
                try query.txt("_acme-challenge.www.example.com", at: primary).get().sorted() == [
                    "challenge-www", unmanaged,
                ])
            #expect(try eventually { try bed.updatesProcessed() == before + 1 })

            if let secondary = try bed.secondary {
                #expect(
                    try eventually {
                        try query.txt("_acme-challenge.example.com", at: secondary).get().count == 3
                            && query.txt("_acme-challenge.www.example.com", at: secondary).get().count == 2
                    }, "the secondary did not follow the primary after NOTIFY")
                #expect(
                    try query.soaSerial("example.com", at: secondary).get()
                        == query.soaSerial("example.com", at: primary).get())
                let signed = try bed.dnssecAnswer("_acme-challenge.example.com", "TXT", at: primary)
                #expect(signed.contains("RRSIG") && signed.contains("TXT 13 "), "no RRSIG over the TXT: \(signed)")
                let served = try bed.dnssecAnswer("_acme-challenge.www.example.com", "TXT", at: secondary)
                #expect(served.contains("RRSIG"), "the secondary serves no RRSIG: \(served)")
            }

            // the same change again is a no-op on the server: resuming after a crash is safe
            _ = try client.send(DNSZoneChange(zone: "example.com", additions: records), to: primary, key: key).get()
            #expect(try query.txt("_acme-challenge.example.com", at: primary).get().count == 3)

            let removed = try client.send(DNSZoneChange(zone: "example.com", deletions: records), to: primary, key: key)
                .get()
            #expect(removed.messages.count == 1)
            #expect(try query.txt("_acme-challenge.example.com", at: primary).get() == [unmanaged])
            #expect(try query.txt("_acme-challenge.www.example.com", at: primary).get() == [unmanaged])
            if let secondary = try bed.secondary {
                #expect(
                    try eventually { try query.txt("_acme-challenge.example.com", at: secondary).get() == [unmanaged] })
            }
        }

        @Test(
            "TLSA records: added, then one deleted by value; the other and the unmanaged one survive",
            arguments: UpdateTestbed.Server.allCases)
        func tlsaAddDelete(_ server: UpdateTestbed.Server) throws {
            let bed = try UpdateTestbed(server)
            let key = try bed.key
            let primary = try bed.primary
            let owner = "_25._tcp.mail.example.com"
            let unmanaged = try bed.unmanagedTLSA
            let next = DNSTLSARecord(usage: 3, selector: 1, matchingType: 1, dataHex: Self.hexA)
            let current = DNSTLSARecord(usage: 2, selector: 0, matchingType: 1, dataHex: Self.hexB)
            _ = try client.send(
                DNSZoneChange(zone: "example.com", additions: [.tlsa(owner, next), .tlsa(owner, current)]), to: primary,
                key: key
            ).get()
            #expect(
                try query.tlsa(owner, at: primary).get().map(\.description).sorted()
                    == [current.description, next.description, unmanaged].sorted())
            _ = try client.send(
                DNSZoneChange(zone: "example.com", deletions: [.tlsa(owner, current)]), to: primary, key: key
            )
            .get()
            #expect(
                try query.tlsa(owner, at: primary).get().map(\.description).sorted()
                    == [next.description, unmanaged].sorted())
            if server == .knot {
                let signed = try bed.dnssecAnswer(owner, "TLSA", at: primary)
                #expect(signed.contains("RRSIG") && signed.contains("TLSA 13 "), "no RRSIG over the TLSA: \(signed)")
            }
        }

        @Test(
            "a change over 512 bytes goes over TCP as one message; two zones are two messages",
            arguments: UpdateTestbed.Server.allCases)
        func largeOverTCP(_ server: UpdateTestbed.Server) throws {
            let bed = try UpdateTestbed(server)
            let key = try bed.key
            let primary = try bed.primary
            let before = try bed.updatesProcessed()
            let value = String(repeating: "v", count: 43)
            var reports: [DNSUpdateReport] = []
            for zone in ["example.com", "example.net"] {
                let records = (1...20).map { DNSUpdateRecord.txt("_acme-challenge.c\($0).\(zone)", value) }
                reports.append(
                    try client.send(DNSZoneChange(zone: zone, additions: records), to: primary, key: key).get())
            }
            for report in reports {
                #expect(report.messages.count == 1)
                #expect(report.messages.first?.transport == .tcp && (report.messages.first?.bytes ?? 0) > 512)
            }
            #expect(try query.txt("_acme-challenge.c20.example.net", at: primary).get() == [value])
            #expect(try eventually { try bed.updatesProcessed() == before + 2 })
        }

        @Test(
            "a change over the safe size is split; every message is applied and counted",
            arguments: UpdateTestbed.Server.allCases)
        func split(_ server: UpdateTestbed.Server) throws {
            let bed = try UpdateTestbed(server)
            let key = try bed.key
            let primary = try bed.primary
            let before = try bed.updatesProcessed()
            let small = DNSUpdateClient(
                logger: Logger(label: "sslm.test.dns-update"), timeoutSeconds: 2, maxMessageBytes: 512)
            let records = (1...12).map { DNSUpdateRecord.txt("_acme-challenge.c\($0).example.com", "split-\($0)") }
            let report = try small.send(DNSZoneChange(zone: "example.com", additions: records), to: primary, key: key)
                .get()
            #expect(report.split && report.messages.count > 1)
            #expect(report.messages.allSatisfy { $0.bytes <= 512 && $0.transport == .udp })
            #expect(report.messages.map(\.records).reduce(0, +) == 12)
            #expect(report.description.contains("split because one message would exceed the safe size"))
            for index in 1...12 {
                #expect(try query.txt("_acme-challenge.c\(index).example.com", at: primary).get() == ["split-\(index)"])
            }
            #expect(try eventually { try bed.updatesProcessed() == before + report.messages.count })
        }

        @Test(
            "wrong secret, wrong key name, zone not served, server down: each its sentence",
            arguments: UpdateTestbed.Server.allCases)
        func failures(_ server: UpdateTestbed.Server) throws {
            let bed = try UpdateTestbed(server)
            let key = try bed.key
            let primary = try bed.primary
            let change = DNSZoneChange(zone: "example.com", additions: [.txt("_acme-challenge.example.com", "x")])
            func failure(_ result: Result<DNSUpdateReport, DNSUpdateError>) -> DNSUpdateError? {
                if case .failure(let error) = result { return error }
                Issue.record("the UPDATE succeeded")
                return nil
            }
            func names(_ error: DNSUpdateError?, zone: String = "example.com", keyName: String, _ extra: [String]) {
                guard let error else { return }
                for part in ["\(primary)", "zone \(zone)", "\"\(keyName)\""] + extra {
                    #expect(error.message.contains(part), "\(part) not in: \(error.message)")
                }
                #expect(!error.message.contains(key.secret.base64))
            }

            var wrongSecret = key
            wrongSecret.secret = TSIGSecret(base64: Data(repeating: 7, count: 32).base64EncodedString())
            let badSignature = failure(client.send(change, to: primary, key: wrongSecret))
            #expect(badSignature?.kind == .notAuthorized && badSignature?.tsigError == "BADSIG")
            names(badSignature, keyName: key.name, ["BADSIG", "another secret"])

            var wrongName = key
            wrongName.name = "not-the-key"
            let badKey = failure(client.send(change, to: primary, key: wrongName))
            #expect(badKey?.kind == .notAuthorized && badKey?.tsigError == "BADKEY")
            names(badKey, keyName: "not-the-key", ["BADKEY", "has no key"])

            let otherZone = DNSZoneChange(zone: "example.org", additions: [.txt("_acme-challenge.example.org", "x")])
            let notServed = failure(client.send(otherZone, to: primary, key: key))
            #expect(notServed?.kind == .notAuthorized && notServed?.tsigError == nil)
            names(
                notServed, zone: "example.org", keyName: key.name,
                ["NOTAUTH", "not authoritative for zone example.org"])

            #expect(try query.txt("_acme-challenge.example.com", at: primary).get() == [try bed.unmanagedTXT])

            try bed.stopPrimary()
            let down = failure(client.send(change, to: primary, key: key))
            #expect(down?.kind == .connectionRefused)
            names(down, keyName: key.name, ["connection refused"])
            try bed.startPrimary()
            _ = try client.send(change, to: primary, key: key).get()
            #expect(try query.txt("_acme-challenge.example.com", at: primary).get().contains("x"))
        }

        @Test("a host-name server resolves through the configured primary; an unknown name is a clear error")
        func hostNames() throws {
            let bed = try UpdateTestbed(.knot)
            let primary = try bed.primary
            let resolution = NameserverResolution(query: query)
            #expect(
                try resolution.resolve(
                    NameserverAddress(host: "ns1.example.com", port: primary.port), resolvers: [primary]
                )
                .get() == [primary])
            guard
                case .failure(let error) = resolution.resolve(
                    NameserverAddress(host: "nowhere.example.com", port: 53), resolvers: [primary])
            else {
                Issue.record("nowhere.example.com resolved")
                return
            }
            #expect(error.message.contains("nowhere.example.com") && error.message.contains("does not resolve"))

            // [[dns_primary]] for example.com given as ns1.example.net, resolved at example.net's primary
            let topdir = try NameserverResolutionTests.topdir(
                primaries: """
                    [[dns_primary]]
                    domain = 'example.net'
                    server = '127.0.0.1'
                    port = \(primary.port)

                    [[dns_primary]]
                    domain = 'example.com'
                    server = 'ns1.example.net'
                    port = \(primary.port)
                    update = 'rfc2136'
                    tsig_key_file = '\(try bed.value("KEY_FILE"))'
                    """)
            let loaded = ConfigLoader.load(topdir: topdir.path)
            let config = try #require(loaded.config, "\(loaded.diagnostics)")
            let target = try PropagationTarget(apex: "example.com", config: config, resolution: resolution)
            #expect(target.primary == primary)
            guard case .rfc2136(let key) = config.dnsPrimary(for: "example.com")?.update else {
                Issue.record("no rfc2136 key")
                return
            }
            let report = try client.send(
                DNSZoneChange(zone: "example.com", additions: [.txt("_acme-challenge.example.com", "via-host-name")]),
                to: target.primary, key: key
            ).get()
            #expect(report.messages.count == 1)
        }
    }
}
