import Foundation
import SSLMConfig
import SSLMCore
import Testing

@testable import SSLMPlan

/// The renewal decisions of issue 13 as tables: which curr an ACME order names as `replaces`, a switch of
/// `signing_ca` as drift (`issuer_changed`), a revoked curr, `--replace`, and `--test` without TLSA
/// refreshes.
@Suite struct RenewalDecisionTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)
    static let webEc = ServiceAddress(group: "example.com", service: "web-ec")

    /// The ACME example with example.com/web-ec's curr issued `age` days ago (90-day lifetime), recorded as
    /// ordered from le-http by the account sslm holds; `edit` changes the record and the observation.
    static func acmeState(age: Double = 80, edit: (inout Observation) -> Void = { _ in }) throws
        -> (Config, Observation)
    {
        let config = try ExampleConfig.load(acmeEdits)
        var builder = StateBuilder(config: config)
        builder.issue("example.com/web-ec", slot: "curr", at: now.addingTimeInterval(-age * 86_400), days: 90)
        builder.syncEverything()
        var observation = builder.build()
        ACMEIssuance.record(&observation, config: config)
        edit(&observation)
        return (config, observation)
    }

    static func plan(
        _ config: Config, _ observation: Observation, at time: Date = now,
        change: (inout PlanningRequest) -> Void = { _ in }
    ) -> Plan {
        var request = PlanningRequest(
            config: config, observation: observation, now: time, targets: [webEc], toolVersion: "test")
        change(&request)
        return Planner.plan(request)
    }

    static func editRecord(_ observation: inout Observation, _ edit: (inout CertificateRecord) -> Void) {
        for key in (observation.certificateRecords ?? [:]).keys {
            if var record = observation.certificateRecords?[key] {
                edit(&record)
                observation.certificateRecords?[key] = record
            }
        }
    }

    struct ReplacesCase: Sendable, CustomTestStringConvertible {
        var name: String
        var age: Double = 80
        var edit: @Sendable (inout Observation) -> Void = { _ in }
        var replaces: Bool
        var testDescription: String { name }
    }

    static let replacesCases: [ReplacesCase] = [
        ReplacesCase(name: "ordered here by this account", replaces: true),
        ReplacesCase(name: "no record (adopted)", edit: { $0.certificateRecords = nil }, replaces: false),
        ReplacesCase(
            name: "another account ordered it",
            edit: { editRecord(&$0) { $0.account = "https://acme.example/acct/9" } }, replaces: false),
        ReplacesCase(name: "sslm holds no account", edit: { $0.acmeAccounts = nil }, replaces: false),
        ReplacesCase(
            name: "the CA refused it before",
            edit: { editRecord(&$0) { $0.replacesRefused = "alreadyReplaced" } }, replaces: false),
        ReplacesCase(name: "expired", age: 95, replaces: false),
    ]

    @Test(arguments: replacesCases)
    func ordersNameCurrOnlyWhenTheCAAcceptsIt(_ testCase: ReplacesCase) throws {
        let (config, observation) = try Self.acmeState(age: testCase.age, edit: testCase.edit)
        let order = try #require(Self.plan(config, observation).action("example.com/web-ec/next/order"))
        #expect((order.params["replaces"] == .string("curr")) == testCase.replaces, "\(order.params)")
    }

    @Test func switchingFromALocalCAToACMEIsDrift() throws {
        // curr was signed by my-int (the unedited example); the config now names le-http.
        var builder = StateBuilder(config: try ExampleConfig.load())
        inSync(&builder)
        let plan = Planner.plan(
            PlanningRequest(
                config: try ExampleConfig.load(acmeEdits), observation: builder.build(), now: T0, targets: [Self.webEc],
                toolVersion: "test"))
        let reason = try #require(plan.action("example.com/web-ec/next/dir")?.reason)
        #expect(reason.code == "issuer_changed")
        #expect(reason.message.contains("local CA \"my-int\"") && reason.message.contains("ACME CA \"le-http\""))
        #expect(plan.action("example.com/web-ec/next/order")?.params["replaces"] == nil)
    }

    @Test func switchingBetweenACMECAsIsDrift() throws {
        let (config, observation) = try Self.acmeState(age: 10) { observation in
            Self.editRecord(&observation) { $0.directory = "https://other-ca.example/directory" }
        }
        let reason = try #require(Self.plan(config, observation).action("example.com/web-ec/next/dir")?.reason)
        #expect(reason.code == "issuer_changed")
        #expect(reason.message.contains("other-ca.example"), "\(reason.message)")
    }

    @Test func anAdoptedCertificateOfUnknownIssuerIsTheConfiguredCAs() throws {
        let config = try ExampleConfig.load(acmeEdits)
        var builder = StateBuilder(config: config)
        builder.issue(
            "example.com/web-ec", slot: "curr", at: Self.now.addingTimeInterval(-10 * 86_400), days: 90,
            issuer: "CN=R11,O=Let's Encrypt,C=US")
        builder.syncEverything()
        let plan = Self.plan(config, builder.build())
        #expect(plan.action("example.com/web-ec/next/dir") == nil, "\(plan.actions.map(\.id))")
    }

    @Test func switchingFromACMEToALocalCAIsDrift() throws {
        var builder = StateBuilder(config: try ExampleConfig.load())
        inSync(&builder)
        builder.issue("example.com/web-ec", slot: "curr", at: T0 - 10 * day, issuer: "CN=R11,O=Let's Encrypt,C=US")
        builder.syncEverything()
        let plan = Planner.plan(
            PlanningRequest(
                config: try ExampleConfig.load(), observation: builder.build(), now: T0, targets: [Self.webEc],
                toolVersion: "test"))
        let reason = try #require(plan.action("example.com/web-ec/next/dir")?.reason)
        #expect(reason.code == "issuer_changed", "\(reason.message)")
        #expect(reason.message.contains("CN=R11") && reason.message.contains("\"my-int\""))
    }

    @Test func aRevokedCurrIsReplacedAndRolledWithoutAFlag() throws {
        let (config, observation) = try Self.acmeState(age: 10) { observation in
            Self.editRecord(&observation) {
                $0.revoked = CertificateRecord.Revocation(at: Self.now.addingTimeInterval(-60), reason: "keyCompromise")
            }
        }
        let plan = Self.plan(config, observation) { $0.reuseKey = true }
        #expect(plan.action("example.com/web-ec/next/dir")?.reason.code == "certificate_revoked")
        #expect(plan.action("example.com/web-ec/next/key")?.kind == .generateKey, "a revoked key is never reused")
        #expect(plan.action("example.com/web-ec/roll")?.reason.code == "certificate_revoked")
    }

    @Test func replaceMakesAndRollsANewCertificateOverAPendingNext() throws {
        var builder = StateBuilder(config: try ExampleConfig.load())
        inSync(&builder)
        builder.issue("example.com/mail-ec", slot: "next", at: T0 - 5 * minute)
        builder.syncEverything()
        let mail = ServiceAddress(group: "example.com", service: "mail-ec")
        var request = PlanningRequest(
            config: try ExampleConfig.load(), observation: builder.build(), now: T0, targets: [mail],
            toolVersion: "test")
        request.replaceNow = true
        let plan = Planner.plan(request)
        #expect(plan.action("example.com/mail-ec/next/dir") != nil, "the pending next is replaced")
        let roll = try #require(plan.action("example.com/mail-ec/roll"))
        #expect(roll.reason.message.contains("--replace") && roll.reason.message.contains("TLSA"))
        #expect(plan.options.extras == ["replace"])
        request.reuseKey = true
        let reused = Planner.plan(request)
        #expect(reused.action("example.com/mail-ec/roll")?.reason.message.contains("nothing breaks") == true)
    }

    @Test func failedOrdersBackOffUntilExpiryIsAtRisk() throws {
        let order = "example.com/web-ec/next/order"
        func failures(_ count: Int, lastAgo: Double) -> (inout Observation) -> Void {
            { observation in
                observation.orderFailures = [
                    "example.com/web-ec": (0..<count).map { index in
                        OrderFailure(
                            time: Self.now.addingTimeInterval(-lastAgo - Double(count - 1 - index) * 600),
                            reason: "urn:ietf:params:acme:error:unauthorized: 404")
                    }
                ]
            }
        }
        // One failure half an hour ago: the next order waits for an hour after it, and the note says so.
        let (config, once) = try Self.acmeState(age: 80, edit: failures(1, lastAgo: 1_800))
        let waiting = Self.plan(config, once)
        #expect(waiting.action(order) == nil)
        let note = waiting.notes.first { $0.subject == "example.com/web-ec" }
        #expect(note?.reason.code == "order_backoff")
        #expect(note?.reason.message.contains("retry after") == true && note?.reason.message.contains("404") == true)
        #expect(Self.plan(config, once, at: Self.now.addingTimeInterval(1_801)).action(order) != nil)
        // Three failures: 4 h.
        let (_, thrice) = try Self.acmeState(age: 80, edit: failures(3, lastAgo: 3 * 3_600))
        #expect(Self.plan(config, thrice).action(order) == nil)
        #expect(Self.plan(config, thrice, at: Self.now.addingTimeInterval(3_601)).action(order) != nil)
        // Ten failures: capped at 32 h.
        let (_, many) = try Self.acmeState(age: 70, edit: failures(10, lastAgo: 31 * 3_600))
        #expect(Self.plan(config, many).action(order) == nil)
        #expect(Self.plan(config, many, at: Self.now.addingTimeInterval(3_601)).action(order) != nil)
        // --force and --replace retry now.
        #expect(Self.plan(config, once) { $0.force = true }.action(order) != nil)
        #expect(Self.plan(config, once) { $0.replaceNow = true }.action(order) != nil)
        // Four days before curr expires, every run retries.
        let (_, atRisk) = try Self.acmeState(age: 86, edit: failures(5, lastAgo: 60))
        #expect(Self.plan(config, atRisk).action(order) != nil)
    }

    /// After a roll the published copy waits while an endpoint still presents prev's key; an endpoint that
    /// presents curr's key (or cannot be probed) does not hold it.
    @Test(arguments: [("prev", true), ("curr", false), ("unreachable", false)])
    func theOldRecordStaysWhileItsKeyIsServed(presents: String, holds: Bool) throws {
        let config = try ExampleConfig.load()
        var builder = StateBuilder(config: config)
        inSync(&builder)
        builder.issue("example.com/mail-ec", slot: "prev", at: T0 - 80 * day)
        builder.syncEverything()
        let apex = "example.com"
        for dir in config.dns.tlsaDirs { builder.tlsaCopies[apex, default: [:]][dir] = "sha256:the-old-published-copy" }
        var observation = builder.build()
        let mail = try #require(observation.service(ServiceAddress(group: apex, service: "mail-ec")))
        let key = presents == "prev" ? mail.dbDir(mail.prev)?.key?.spkiSHA256 : mail.dbDir(mail.curr)?.key?.spkiSHA256
        observation.daneEndpoints = [
            DANEEndpointProbe(
                service: "example.com/mail-ec", endpoint: "mail.example.com:25", connect: "127.0.0.1:2525",
                spkiSHA256: presents == "unreachable" ? nil : key,
                failure: presents == "unreachable" ? "connection refused" : nil)
        ]
        let plan = Planner.plan(
            PlanningRequest(config: config, observation: observation, now: T0, toolVersion: "test"))
        #expect((plan.action("example.com/tlsa/publish") == nil) == holds, "\(plan.actions.map(\.id))")
        let note = plan.notes.first { $0.reason.code == "tlsa_held" }
        #expect((note != nil) == holds)
        if holds { #expect(note?.reason.message.contains("127.0.0.1:2525") == true) }
    }

    @Test func testModeRefreshesNoDNSForTLSAItNeverPublishes() throws {
        let config = try ExampleConfig.load([
            "ssl-mgr.conf": [("restart_cmd = ''", "restart_cmd = '/usr/local/bin/resign'")]
        ])
        var request = PlanningRequest(
            config: config, observation: StateBuilder(config: config).build(), now: T0, toolVersion: "test")
        #expect(Planner.plan(request).action("dns/refresh")?.reason.code == "dns_changed")
        request.acmeStaging = true
        let test = Planner.plan(request)
        #expect(test.action("dns/refresh") == nil)
        #expect(!test.notes.contains { $0.subject == "dns" }, "\(test.notes)")
    }
}
