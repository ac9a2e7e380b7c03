import Foundation
import SSLMApply
import SSLMConfig
import SSLMCore
import SSLMObserve
import SSLMPKI
import SSLMPlan
import Testing

/// The real loop: observe → plan (the real planner) → apply → observe → plan again. Applying a plan must
/// bring the topdir to the state the planner asked for: the next plan is empty.
@Suite("Observe, plan, apply, converge")
struct ReconcileTests {
    static let dns = [DNSFacts(apex: "example.com", mxHosts: ["mx.example.com"], failure: nil)]

    /// `publishedSince`: what the DNS gatherer would record when every name server serves all of the
    /// TLSA records the certificates imply since that time (these tests have no DNS server).
    static func plan(_ fixture: ApplyFixture, now: Date, publishedSince: Date? = nil) -> Plan {
        var observation = Observer.observe(
            config: fixture.config, services: fixture.config.activeServices, dns: dns,
            localHostNames: ["sslm-test-host"])
        if let publishedSince {
            observation.danePublications = observation.danePublications?.map { publication in
                var served = publication
                let keys = publication.expected.flatMap { $0.records.map(\.key) }
                served.servers = [
                    ServedTLSA(
                        server: "primary (127.0.0.1:53)", isPrimary: true, serial: 1, records: keys,
                        failure: nil)
                ]
                served.firstSeen = Dictionary(keys.map { ($0, publishedSince) }, uniquingKeysWith: { a, _ in a })
                return served
            }
        }
        return Planner.plan(PlanningRequest(config: fixture.config, observation: observation, now: now))
    }

    @Test("a fresh install converges: the plan after apply is empty")
    func freshInstallConverges() async throws {
        let fixture = try ApplyFixture()
        let first = Self.plan(fixture, now: ApplyFixture.now)
        #expect(first.actions.contains { $0.kind == .signLocal })
        let report = try await fixture.executor().apply(first)
        #expect(report.succeeded, "\(report.failures)")
        let second = Self.plan(fixture, now: ApplyFixture.now.addingTimeInterval(60))
        #expect(second.actions.map(\.id) == [], "\(second.actions.map { "\($0.id): \($0.reason.message)" })")
        // Servers: production copied to mx1 over rsync, restarts ran (stand-ins).
        #expect(fixture.recordedCommands.contains { $0.hasPrefix("rsync -a --delete --mkpath") })
    }

    @Test("renew, wait, roll: each plan applied leaves only the waiting note, then nothing")
    func renewThenRoll() async throws {
        let fixture = try ApplyFixture()
        let install = try await fixture.executor().apply(Self.plan(fixture, now: ApplyFixture.now))
        #expect(install.succeeded, "\(install.failures)")
        let mailCurr = try #require(fixture.link("example.com/mail", "curr"))

        // The leaf (90 days, the intermediate's sign_end_days) is due 30 days before it expires.
        let due = ApplyFixture.now.addingTimeInterval(65 * 86_400)
        let renew = Self.plan(fixture, now: due)
        #expect(renew.actions.contains { $0.id == "example.com/mail/next/cert" }, "\(renew.actions.map(\.id))")
        #expect(!renew.actions.contains { $0.service == "ca/int" }, "the intermediate got 3650 days from the root")
        let renewed = try await fixture.executor(now: due).apply(renew)
        #expect(renewed.succeeded, "\(renewed.failures)")
        #expect(fixture.link("example.com/mail", "next") != nil)
        #expect(fixture.exists(fixture.prod + "/example.com/mail/next/cert.pem"))
        // TLSA now publishes curr and next.
        let tlsa = try #require(fixture.read(fixture.path + "/dns/tlsa/tlsa.example.com"))
        #expect(tlsa.contains(";; mail curr") && tlsa.contains(";; mail next"))

        let waiting = Self.plan(fixture, now: due.addingTimeInterval(60))
        #expect(waiting.actions.map(\.id) == [], "\(waiting.actions.map { "\($0.id): \($0.reason.message)" })")
        #expect(waiting.notes.contains { $0.reason.code == ReasonCode.waitingToRoll.rawValue })

        let later = due.addingTimeInterval(2 * 3600)
        let blind = Self.plan(fixture, now: later)
        #expect(
            !blind.actions.contains { $0.id == "example.com/mail/roll" },
            "no DANE roll before the records are seen in DNS")
        let roll = Self.plan(fixture, now: later, publishedSince: due.addingTimeInterval(60))
        #expect(roll.actions.contains { $0.kind == .roll })
        let rolled = try await fixture.executor(now: later).apply(roll)
        #expect(rolled.succeeded, "\(rolled.failures)")
        #expect(fixture.link("example.com/mail", "prev") == mailCurr)
        #expect(!fixture.exists(fixture.prod + "/example.com/mail/next"))
        let after = try #require(fixture.read(fixture.path + "/dns/tlsa/tlsa.example.com"))
        #expect(after.contains(";; mail curr") && !after.contains(";; mail next"))

        let settled = Self.plan(fixture, now: later.addingTimeInterval(60))
        #expect(settled.actions.map(\.id) == [], "\(settled.actions.map { "\($0.id): \($0.reason.message)" })")
    }
}
