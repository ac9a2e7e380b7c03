import Foundation
import Logging
import SSLMConfig
import SSLMCore
import SSLMDNS
import SSLMPKI
import SSLMPlan
import Testing
import X509

@testable import SSLMApply

/// The apply-time probe before `publish_tlsa` withdraws records (`TLSAWithdrawalGate`), with a stand-in for
/// the TLS handshake: which presented certificates hold a withdrawal, and what the sentences name. The real
/// handshake with a STARTTLS server is `DANERolloverTests.withdrawalAfterRestartIsProbed` (make test).
@Suite("TLSA withdrawal gate")
struct TLSAWithdrawalGateTests {
    /// Presents `chain` (or fails with `failure`) and records where it was asked to connect.
    struct StandInProbe: TLSProbe {
        var chain: [Certificate] = []
        var failure: String?

        func servedChain(connect: NameserverAddress, serverName: String, startTLS: String?, timeoutSeconds: Double)
            async -> Result<[Certificate], SSLMError>
        {
            if let failure { return .failure(SSLMError(.ioFailure, failure)) }
            return .success(chain)
        }
    }

    static func certificate(_ name: String) throws -> Certificate {
        let key = try KeyPair.generate(.ec(.secp256r1))
        let csr = try CertificateRequestBuilder.make(subject: SubjectFields(commonName: name), key: key, role: .leaf)
        return try LocalSigner.selfSign(
            request: csr, key: key, role: .leaf, policy: SigningPolicy(validityDays: 30), now: ApplyFixture.now)
    }

    static func record(_ certificate: Certificate, usage: Int = 3, selector: Int = 1, matching: Int = 1) throws
        -> DNSUpdateRecord
    {
        let hex = try TLSARecordData.hex(for: certificate, selector: selector, matchingType: matching)
        return .tlsa(
            "_25._tcp.mx.example.com",
            DNSTLSARecord(usage: usage, selector: selector, matchingType: matching, dataHex: hex))
    }

    /// The fixture's config with `mx.example.com` reached at 127.0.0.1:2525 (`[dns] dane_connect`).
    static func config(_ fixture: ApplyFixture? = nil, unreachableHolds: Bool = false) throws -> Config {
        var config = try (fixture ?? ApplyFixture()).config
        config.dns.daneConnect["mx.example.com"] = NameserverAddress(host: "127.0.0.1", port: 2525)
        config.dns.daneUnreachableHolds = unreachableHolds
        return config
    }

    @Test("an endpoint presenting the key of a record to withdraw holds it, and the sentence names it")
    func oldKeyHolds() async throws {
        let old = try Self.certificate("old.example.com")
        let verdict = await TLSAWithdrawalGate.probe(
            apex: "example.com", withdrawn: [try Self.record(old)], config: try Self.config(),
            probe: StandInProbe(chain: [old]))
        let spki = try TLSARecordData.hex(for: old, selector: 1, matchingType: 1)
        #expect(verdict.held.count == 1, "\(verdict)")
        #expect(
            verdict.held.first?.contains(
                "mx.example.com:25 (127.0.0.1:2525) still presents the key SPKI SHA-256 "
                    + spki.prefix(16)) == true, "\(verdict.held)")
    }

    @Test("a record of the full certificate (3 0 1) holds too; a trust-anchor record (2 1 1) never does")
    func matchingFollowsTheRecord() async throws {
        let old = try Self.certificate("old.example.com")
        let fullCertificate = await TLSAWithdrawalGate.probe(
            apex: "example.com", withdrawn: [try Self.record(old, selector: 0)], config: try Self.config(),
            probe: StandInProbe(chain: [old]))
        #expect(fullCertificate.held.count == 1, "\(fullCertificate)")
        let anchor = await TLSAWithdrawalGate.probe(
            apex: "example.com", withdrawn: [try Self.record(old, usage: 2)], config: try Self.config(),
            probe: StandInProbe(chain: [old]))
        #expect(anchor.held.isEmpty, "\(anchor)")
    }

    @Test("an endpoint presenting the new key lets the withdrawal go, and says what it presented")
    func newKeyPasses() async throws {
        let (old, new) = (try Self.certificate("old.example.com"), try Self.certificate("new.example.com"))
        let verdict = await TLSAWithdrawalGate.probe(
            apex: "example.com", withdrawn: [try Self.record(old)], config: try Self.config(),
            probe: StandInProbe(chain: [new]))
        #expect(verdict.held.isEmpty, "\(verdict)")
        #expect(
            verdict.probed == [
                "mx.example.com:25 (127.0.0.1:2525) presents the key SPKI SHA-256 "
                    + (try TLSARecordData.hex(for: new, selector: 1, matchingType: 1)).prefix(16) + "…"
            ])
    }

    @Test("an endpoint that cannot be probed holds only with dane_unreachable_holds", arguments: [false, true])
    func unreachable(holds: Bool) async throws {
        let old = try Self.certificate("old.example.com")
        let verdict = await TLSAWithdrawalGate.probe(
            apex: "example.com", withdrawn: [try Self.record(old)], config: try Self.config(unreachableHolds: holds),
            probe: StandInProbe(failure: "connection refused"))
        #expect(verdict.held.count == (holds ? 1 : 0), "\(verdict)")
        #expect(
            (verdict.held + verdict.probed).first?.contains(
                "mx.example.com:25 (127.0.0.1:2525) cannot be probed (connection refused)")
                == true, "\(verdict)")
    }

    /// `publish_tlsa` after `restart_server`, for an include-file zone (`[dns] tlsa_dirs`) and for an exec
    /// provider: while the endpoint presents the old key nothing is published (the copy, or what was sent,
    /// stays), the run succeeds and says why; once it presents the new key the old record goes.
    @Test(
        "publish_tlsa after a restart: held while the old key is presented, published after", arguments: [false, true])
    func publishAfterRestart(sentByProvider: Bool) async throws {
        let fixture = try ApplyFixture()
        var config = try Self.config(fixture)
        let (old, new) = (try Self.certificate("old.example.com"), try Self.certificate("new.example.com"))
        func line(_ certificate: Certificate) throws -> String {
            "_25._tcp.mx.example.com. 3600 IN TLSA 3 1 1 "
                + (try TLSARecordData.hex(for: certificate, selector: 1, matchingType: 1)) + "\n"
        }
        let file = try line(new)
        try fixture.topdir.write("certs/example.com/tlsa.example.com", file)
        let providerLog = fixture.path + "/provider.log"
        let copy: String
        if sentByProvider {
            let provider = fixture.path + "/bin/provider"
            try fixture.topdir.write(
                "bin/provider", "#!/bin/sh\ncat >> \(providerLog)\necho >> \(providerLog)\n", mode: 0o755)
            config.dnsPrimaries = [
                DNSPrimary(
                    domain: "default", server: NameserverAddress(host: "127.0.0.1", port: 5053),
                    update: .exec([provider]))
            ]
            copy = ".sslm/dns/tlsa-sent.example.com"
        } else {
            copy = "dns/tlsa/tlsa.example.com"
        }
        try fixture.topdir.write(copy, try line(old) + file)
        let reason = Reason(.serversChanged, "test")
        let actions = [
            Action(
                id: "restart/smtp/localhost", payload: .restartServer(section: "smtp", host: "localhost", commands: []),
                reason: reason),
            Action(
                id: "example.com/tlsa/publish", payload: .publishTLSA(apex: "example.com", directories: []),
                reason: Reason(.tlsaChanged, "test"), dependsOn: ["restart/smtp/localhost"]),
        ]
        // Two runs: two plans (a plan's actions done in the journal are not run again).
        func apply(presenting certificate: Certificate, run: Int) async throws -> ApplyReport {
            var options = ExecutorOptions()
            options.localHostNames = ["sslm-test-host"]
            options.dnsFacts = [DNSFacts(apex: "example.com", mxHosts: ["mx.example.com"], failure: nil)]
            options.tlsProbe = StandInProbe(chain: [certificate])
            let logger = Logger(label: "sslm.apply.tests") { _ in SwiftLogNoOpLogHandler() }
            return try await Executor(
                config: config, topdir: fixture.path, now: ApplyFixture.now, logger: logger, options: options
            )
            .apply(Plans.plan(actions, fingerprint: "sha256:run\(run)"))
        }
        let held = try await apply(presenting: old, run: 1)
        #expect(held.succeeded, "a hold is not a failure: \(held.failures)")
        guard case .succeeded(let detail)? = held.outcome("example.com/tlsa/publish") else {
            Issue.record("publish_tlsa: \(String(describing: held.outcome("example.com/tlsa/publish")))")
            return
        }
        #expect(
            detail?.hasPrefix("held, nothing published") == true
                && detail?.contains("mx.example.com:25 (127.0.0.1:2525)") == true,
            "\(detail ?? "nil")")
        #expect(fixture.read(fixture.path + "/" + copy) == (try line(old)) + file, "the zone keeps the old record")
        #expect(fixture.read(providerLog) == nil, "nothing was sent")

        let published = try await apply(presenting: new, run: 2)
        #expect(published.succeeded, "\(published.failures)")
        guard case .succeeded(let after)? = published.outcome("example.com/tlsa/publish") else {
            Issue.record("publish_tlsa: \(String(describing: published.outcome("example.com/tlsa/publish")))")
            return
        }
        #expect(
            after?.contains("probed after the restart: mx.example.com:25 (127.0.0.1:2525) presents") == true,
            "\(after ?? "nil")")
        #expect(fixture.read(fixture.path + "/" + copy) == file, "the old record is withdrawn")
        if sentByProvider {
            let sent = fixture.read(providerLog) ?? ""
            let oldData = try TLSARecordData.hex(for: old, selector: 1, matchingType: 1)
            #expect(
                sent.contains("tlsa-withdraw") && sent.contains(oldData), "the provider deleted the old record: \(sent)"
            )
        }
    }
}
