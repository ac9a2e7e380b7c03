import Foundation
import SSLMCore
import SSLMDNS
import SSLMTestSupport
import Testing

extension TestbedSuites {
    /// `DNSQuery.validatedTLSA`: the DO bit and the AD flag, against the signed nsd zone directly (an
    /// authoritative server never sets AD) and through unbound (scripts/testbed/resolver-testbed) with and
    /// without the zone's KSK as trust anchor.
    @Suite("validated TLSA lookups: the AD flag of a validating resolver")
    struct ValidatedTLSATests {
        let query = DNSQuery(timeoutSeconds: 1, retries: 1)
        static let script = DNSTestbed.repositoryRoot.appendingPathComponent("scripts/testbed/resolver-testbed").path

        private func startResolver(_ bed: DNSTestbed, trustAnchor: Bool) throws -> (NameserverAddress, String) {
            let directory = bed.directory + "/resolver-\(trustAnchor)"
            var argv = [Self.script, "start", directory, "--forward-zone", "example.com=\(try bed.primary)"]
            if trustAnchor { argv += ["--trust-anchor", try bed.value("DNS_KSK_example_com")] }
            let outcome = try ScriptRunner.run(argv)
            guard outcome.succeeded else {
                throw SSLMError(.ioFailure, "resolver-testbed start failed: \(outcome.stderr)\(outcome.stdout)")
            }
            let env = try DNSTestbed.readEnv(directory + "/env")
            return (try NameserverAddress.parse(env["RESOLVER"] ?? "").get(), directory)
        }

        @Test("the same records everywhere; AD only from unbound with the trust anchor")
        func adFlag() throws {
            let bed = try DNSTestbed()
            let hex = String(repeating: "5a", count: 32)
            try bed.writeTLSA("example.com", "_25._tcp.mail.example.com.  IN TLSA 3 1 1 \(hex)\n")
            try bed.refresh()
            let record = DNSTLSARecord(usage: 3, selector: 1, matchingType: 1, dataHex: hex)

            let direct = try query.validatedTLSA("_25._tcp.mail.example.com", at: try bed.primary).get()
            #expect(direct.value == [record])
            #expect(!direct.authenticated, "an authoritative server does not validate")

            let (validating, first) = try startResolver(bed, trustAnchor: true)
            defer { _ = try? ScriptRunner.run([Self.script, "stop", first]) }
            let (insecure, second) = try startResolver(bed, trustAnchor: false)
            defer { _ = try? ScriptRunner.run([Self.script, "stop", second]) }

            let validated = try query.validatedTLSA("_25._tcp.mail.example.com", at: validating).get()
            #expect(validated.value == [record])
            #expect(validated.authenticated)
            let empty = try query.validatedTLSA("_25._tcp.nothing.example.com", at: validating).get()
            #expect(empty.value.isEmpty && empty.authenticated, "a validated denial is authenticated too")

            let unvalidated = try query.validatedTLSA("_25._tcp.mail.example.com", at: insecure).get()
            #expect(unvalidated.value == [record])
            #expect(!unvalidated.authenticated)
            // The plain lookup is unchanged.
            #expect(try query.tlsa("_25._tcp.mail.example.com", at: validating).get() == [record])
        }
    }
}
