import Foundation
import SSLMConfig
import SSLMCore
import SSLMDNS
import SSLMPKI
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
    static func config(unreachableHolds: Bool = false) throws -> Config {
        var config = try ApplyFixture().config
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
}
