import SSLMTestSupport
import Foundation
import Logging
import SSLMCore
import SSLMDNS
import Testing

extension TestbedSuites {
    @Suite("PropagationCheck against the nsd test bed")
    struct PropagationCheckTests {
        static let logger = Logger(label: "sslm.test.dns")

        static func check(timeout: Double = 10, delay: Double = 0) -> PropagationCheck {
            PropagationCheck(
                settings: PropagationSettings(
                    initialDelaySeconds: delay, timeoutSeconds: timeout, queryTimeoutSeconds: 0.5),
                logger: logger)
        }

        static let challenge = [
            ACMEChallengeRecord(domain: "*.example.com", value: "wild-\(UUID().uuidString)"),
            ACMEChallengeRecord(domain: "example.com", value: "base-\(UUID().uuidString)"),
            ACMEChallengeRecord(domain: "www.example.com", value: "www-\(UUID().uuidString)"),
        ]

        func publish(_ bed: DNSTestbed, _ records: [ACMEChallengeRecord] = challenge) throws {
            try bed.writeACME("example.com", ACMEChallengeZoneFile.render(apex: "example.com", records: records))
            try bed.refresh()
        }

        func target(_ bed: DNSTestbed, expected: [ACMEChallengeRecord] = challenge) throws -> PropagationTarget {
            PropagationTarget(
                apex: "example.com", primary: try bed.primary, nameservers: [try bed.secondary],
                extraNameservers: [try bed.primary], expectedTXT: expected)
        }

        @Test("healthy: the primary has the TXT values and both servers its serial")
        func healthy() async throws {
            let bed = try DNSTestbed()
            try publish(bed)
            let report = try await Self.check().await(try target(bed))
            let serial = try bed.recordedSerial("example.com")
            #expect(report.primarySerial == serial)
            #expect(report.servers.count == 2)
            #expect(report.servers[try bed.secondary.description].map { SOASerial.isAtLeast($0, serial) } == true)
            #expect(report.servers[try bed.primary.description] == serial)
            #expect(report.rounds >= 3)
        }

        @Test("a held secondary times out naming it and both serials; released, it passes")
        func heldSecondary() async throws {
            let bed = try DNSTestbed()
            let old = try bed.recordedSerial("example.com")
            try bed.holdSecondary()
            do {
                try publish(bed)
                let new = try bed.recordedSerial("example.com")
                do {
                    _ = try await Self.check(timeout: 3).await(try target(bed))
                    Issue.record("a held secondary must not pass")
                } catch let error as PropagationError {
                    #expect(error.kind == .nameserversLagging)
                    #expect(error.laggingServers == [try bed.secondary.description])
                    #expect(error.message.contains("\(try bed.secondary) still serves serial \(old) for example.com"))
                    #expect(error.message.contains("the primary \(try bed.primary) has \(new)"))
                    #expect(error.message.contains("(waited "))
                }
            }
            try bed.releaseSecondary()
            let report = try await Self.check().await(try target(bed))
            #expect(report.servers[try bed.secondary.description] == (try bed.recordedSerial("example.com")))
        }

        @Test("a stopped primary is named in the error")
        func primaryStopped() async throws {
            let bed = try DNSTestbed()
            try publish(bed)
            try bed.stopPrimary()
            do {
                _ = try await Self.check(timeout: 1).await(try target(bed))
                Issue.record("a stopped primary must not pass")
            } catch let error as PropagationError {
                #expect(error.kind == .primaryUnreachable)
                #expect(error.message.contains("the primary \(try bed.primary) does not answer for example.com"))
            }
            try bed.startPrimary()
            _ = try await Self.check().await(try target(bed))
        }

        @Test("a TXT value the primary does not serve is named with its owner and a value prefix")
        func missingTXT() async throws {
            let bed = try DNSTestbed()
            try publish(bed)
            let absent = ACMEChallengeRecord(domain: "web.example.com", value: "absent-0123456789abcdef")
            do {
                _ = try await Self.check(timeout: 1).await(try target(bed, expected: Self.challenge + [absent]))
                Issue.record("a missing TXT value must not pass")
            } catch let error as PropagationError {
                #expect(error.kind == .primaryMissingTXT)
                #expect(error.message.contains("TXT _acme-challenge.web.example.com \"absent-012345678"))
                #expect(!error.message.contains("_acme-challenge.www.example.com"))
            }
        }

        @Test("dns_check_delay is slept before the first query")
        func delay() async throws {
            let bed = try DNSTestbed()
            try publish(bed)
            let report = try await Self.check(delay: 1).await(try target(bed))
            #expect(report.elapsedSeconds >= 1)
        }

        @Test("discovery: NS names of the apex resolved at the primary, port 53")
        func discovery() async throws {
            let bed = try DNSTestbed()
            let discovered = try await Self.check().discoverNameservers(
                PropagationTarget(apex: "example.com", primary: try bed.primary))
            #expect(
                discovered.map(\.description) == [
                    "ns1.example.com (127.0.0.1:53)", "ns1.example.com ([::1]:53)", "ns2.example.com (127.0.0.2:53)",
                ])
        }

        @Test("the secondary catches up by NOTIFY + AXFR after a refresh")
        func secondaryCatchesUp() async throws {
            let bed = try DNSTestbed(zones: ["example.com", "example.net"])
            try bed.refresh()
            for zone in ["example.com", "example.net"] {
                let report = try await Self.check(timeout: 5).await(
                    PropagationTarget(apex: zone, primary: try bed.primary, nameservers: [try bed.secondary]))
                #expect(report.servers[try bed.secondary.description] == (try bed.recordedSerial(zone)))
            }
        }
    }

    @Suite("The test bed itself", .enabled(if: TestTier.full, "starts nsd: not in make check"))
    struct DNSTestbedTests {
        @Test("the signed zone verifies with ldns-verify-zone")
        func signedZoneVerifies() throws {
            let bed = try DNSTestbed()
            try publish(bed)
            guard ScriptRunner.hasTool("ldns-verify-zone") else {
                Issue.record("ldns-verify-zone is missing: install ldnsutils")
                return
            }
            let outcome = try ScriptRunner.run(["ldns-verify-zone", try bed.value("DNS_SIGNED_example_com")])
            #expect(outcome.succeeded, "ldns-verify-zone: \(outcome.stdout) \(outcome.stderr)")
            let signed = try String(contentsOfFile: try bed.value("DNS_SIGNED_example_com"), encoding: .utf8)
            #expect(signed.contains("\tDNSKEY\t257 3 13 "))
            #expect(signed.contains("_acme-challenge.example.com."))
            #expect(FileManager.default.fileExists(atPath: try bed.value("DNS_KSK_example_com")))
        }

        func publish(_ bed: DNSTestbed) throws {
            try bed.writeACME(
                "example.com",
                ACMEChallengeZoneFile.render(
                    apex: "example.com", records: [ACMEChallengeRecord(domain: "example.com", value: "v")]))
            try bed.refresh()
        }

        @Test("refreshes are logged one line each and serials grow within one second")
        func refreshLog() throws {
            let bed = try DNSTestbed(zones: ["example.com", "example.net"])
            let first = try bed.recordedSerial("example.com")
            try bed.refresh(["example.com"])
            try bed.refresh(["example.com", "example.net"])
            try bed.refresh(["example.com"])
            #expect(try bed.recordedSerial("example.com") == first + 3)
            let log = try String(contentsOfFile: try bed.value("DNS_REFRESH_LOG"), encoding: .utf8)
            let lines = log.split(separator: "\n")
            #expect(lines.count == 3)
            #expect(lines.dropFirst().first?.contains("example.net=") == true)
        }
    }
}
