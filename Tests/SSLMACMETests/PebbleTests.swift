import Foundation
import SSLMTestSupport
import Testing
@testable import SSLMACME
import X509

/// Against a real pebble (Let's Encrypt's ACME test server), with pebble's test responder
/// (pebble-challtestsrv) answering DNS and http-01. Each test starts its own pebble.
@Suite(.serialized, .enabled(if: TestTier.full, "starts pebble: not in make check"))
struct PebbleTests {
    func withPebble(
        _ options: [String] = [], limits: ACMELimits = .forTests(),
        _ body: (ACMEClient, PebbleTestbed) async throws -> Void
    ) async throws {
        let testbed = try PebbleTestbed(options)
        defer { testbed.stop() }
        let client = try ACMEClient(
            directoryURL: testbed.directoryURL, trustFile: testbed.trustFile,
            logger: testLogger(), limits: limits)
        do {
            try await body(client, testbed)
        } catch {
            await client.shutdown()
            throw error
        }
        await client.shutdown()
    }

    @Test func accountIsCreatedAndFoundAgainForTheSameKey() async throws {
        try await withPebble { client, _ in
            let directory = try await client.directory()
            #expect(directory.renewalInfo == nil)
            #expect(directory.profiles.isEmpty)
            let key = ACMEAccountKey.generate()
            let first = try await client.account(key: key, contact: ["admin@example.com"], eab: nil)
            let again = try await client.account(key: key, contact: ["admin@example.com"], eab: nil)
            #expect(first.hasPrefix("https://127.0.0.1:"))
            #expect(first == again)
            let other = try await client.account(key: .generate(), contact: [], eab: nil)
            #expect(other != first)
        }
    }

    @Test func http01OrderForThreeNamesIssuesAVerifiableChain() async throws {
        try await withPebble { client, testbed in
            _ = try await client.account(key: .generate(), contact: ["mailto:admin@example.com"], eab: nil)
            let names = ["www.example.com", "example.com", "mail.example.com"]
            let started = ContinuousClock.now
            let (chain, csr) = try await issue(client, testbed: testbed, names: names, challenge: "http-01")
            let elapsed = ContinuousClock.now - started
            print("http-01 order for 3 names, end to end: \(elapsed)")
            #expect(chain.certificates.count == 2)
            try ACMEChainCheck.verify(chain, expectedPublicKeyDER: csr.publicKeyDER, identifiers: names)
            #expect(try opensslVerify(chain, testbed: testbed).hasSuffix(": OK\n"))
            // Another key than ours: the check must refuse it.
            #expect(throws: ACMEError(.chainInvalid, "")) {
                try ACMEChainCheck.verify(
                    chain, expectedPublicKeyDER: TestCSR(names: names).publicKeyDER,
                    identifiers: names)
            }
            #expect(throws: ACMEError(.chainInvalid, "")) {
                try ACMEChainCheck.verify(chain, expectedPublicKeyDER: nil, identifiers: ["other.example.com"])
            }
        }
    }

    @Test func dns01OrderWithAWildcardIssues() async throws {
        try await withPebble { client, testbed in
            _ = try await client.account(key: .generate(), contact: [], eab: nil)
            let names = ["*.example.net", "example.net"]
            let (chain, csr) = try await issue(client, testbed: testbed, names: names, challenge: "dns-01")
            try ACMEChainCheck.verify(chain, expectedPublicKeyDER: csr.publicKeyDER, identifiers: names)
            #expect(try opensslVerify(chain, testbed: testbed).hasSuffix(": OK\n"))
        }
    }

    @Test func wildcardAuthorizationIsMarkedAndOffersDNS01Only() async throws {
        try await withPebble { client, _ in
            _ = try await client.account(key: .generate(), contact: [], eab: nil)
            let order = try await client.newOrder([.dns("*.example.org")], profile: nil, replaces: nil)
            let authorization = try await client.authorization(url: try #require(order.authorizations.first))
            #expect(authorization.wildcard)
            #expect(authorization.identifier.value == "example.org")
            #expect(authorization.challenges.map(\.type) == ["dns-01"])
        }
    }

    @Test func revocationSucceedsOnceThenSaysAlreadyRevoked() async throws {
        try await withPebble { client, testbed in
            _ = try await client.account(key: .generate(), contact: [], eab: nil)
            let (chain, _) = try await issue(
                client, testbed: testbed, names: ["revoke.example.com"],
                challenge: "http-01")
            try await client.revoke(certificateDER: chain.certificateDERs[0], reason: 4)
            let error = await #expect(throws: ACMEError.self) {
                try await client.revoke(certificateDER: chain.certificateDERs[0], reason: nil)
            }
            #expect(error?.code == .problem)
            #expect(error?.problemType == "urn:ietf:params:acme:error:alreadyRevoked")
            #expect(error?.description.contains("alreadyRevoked") == true)
        }
    }

    @Test func externalAccountBindingIsRequiredAndAccepted() async throws {
        try await withPebble(["--eab"]) { client, _ in
            #expect(try await client.directory().externalAccountRequired)
            let missing = await #expect(throws: ACMEError.self) {
                try await client.account(key: .generate(), contact: [], eab: nil)
            }
            #expect(missing?.code == .invalidInput)
            #expect(missing?.description.contains("externalAccountRequired") == true)
            let wrong = await #expect(throws: ACMEError.self) {
                try await client.account(
                    key: .generate(), contact: [],
                    eab: .init(keyID: "kid-1", hmacKey: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"))
            }
            #expect(wrong?.code == .problem)
            let url = try await client.account(
                key: .generate(), contact: [],
                eab: .init(keyID: "kid-1", hmacKey: "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W"))
            #expect(url.contains("/my-account/"))
        }
    }

    @Test func preferredChainPicksTheAlternateWhoseRootMatches() async throws {
        try await withPebble(["--alternate-roots", "2"]) { client, testbed in
            _ = try await client.account(key: .generate(), contact: [], eab: nil)
            let rootPEM = try testbed.managementPEM("/roots/1")
            let root = try Certificate(pemEncoded: rootPEM)
            let wanted = try #require(ACMECertificateChain.commonName(root.subject))
            let names = ["chain.example.com"]
            let (chain, csr) = try await issue(
                client, testbed: testbed, names: names, challenge: "http-01",
                preferredChain: wanted)
            #expect(chain.alternateCount == 2)
            #expect(chain.rootIssuerCommonName == wanted)
            try ACMEChainCheck.verify(chain, expectedPublicKeyDER: csr.publicKeyDER, identifiers: names)
            #expect(try opensslVerify(chain, testbed: testbed, index: 1).hasSuffix(": OK\n"))
            // No match: the default chain.
            let defaultRoot = try Certificate(pemEncoded: try testbed.managementPEM("/roots/0"))
            let (fallback, _) = try await issue(
                client, testbed: testbed, names: names, challenge: "http-01",
                preferredChain: "No Such Root")
            #expect(fallback.rootIssuerCommonName == ACMECertificateChain.commonName(defaultRoot.subject))
        }
    }

    @Test func tenConcurrentOrdersSurviveTwentyPercentNonceRejection() async throws {
        try await withPebble(["--nonce-reject", "20"]) { client, testbed in
            _ = try await client.account(key: .generate(), contact: [], eab: nil)
            let started = ContinuousClock.now
            let issued = try await withThrowingTaskGroup(of: Int.self) { group in
                for index in 0..<10 {
                    group.addTask {
                        let names = ["n\(index).example.com", "m\(index).example.com"]
                        let (chain, csr) = try await issue(
                            client, testbed: testbed, names: names,
                            challenge: "http-01")
                        try ACMEChainCheck.verify(chain, expectedPublicKeyDER: csr.publicKeyDER, identifiers: names)
                        return 1
                    }
                }
                return try await group.reduce(0, +)
            }
            print("10 concurrent orders with 20 % nonce rejection: \(ContinuousClock.now - started)")
            #expect(issued == 10)
            #expect(await client.badNonceRetryCount > 0)
        }
    }

    @Test func pollingAnUnvalidatedOrderTimesOutNamingURLAndStatus() async throws {
        try await withPebble(limits: .forTests(pollTimeout: 0.3)) { client, _ in
            _ = try await client.account(key: .generate(), contact: [], eab: nil)
            let order = try await client.newOrder([.dns("slow.example.com")], profile: nil, replaces: nil)
            let error = await #expect(throws: ACMEError.self) {
                try await client.pollOrder(url: order.url, until: ["ready"])
            }
            #expect(error?.code == .timeout)
            #expect(error?.description.contains(order.url) == true)
            #expect(error?.description.contains("pending") == true)
        }
    }

    @Test func failedValidationThrowsTheChallengeProblem() async throws {
        try await withPebble { client, _ in
            _ = try await client.account(key: .generate(), contact: [], eab: nil)
            let order = try await client.newOrder([.dns("fail.example.com")], profile: nil, replaces: nil)
            let url = try #require(order.authorizations.first)
            let challenge = try #require(try await client.authorization(url: url).challenge("http-01"))
            _ = try await client.respond(to: challenge)  // nothing serves the token
            let error = await #expect(throws: ACMEError.self) { try await client.pollAuthorization(url: url) }
            #expect(error?.code == .problem)
            #expect(error?.problemType?.hasPrefix("urn:ietf:params:acme:error:") == true)
            #expect(error?.description.contains("fail.example.com") == true)
        }
    }
}
