import Foundation
import SSLMTestSupport
import Testing
@testable import SSLMACME
import X509

/// Against a stand-in ACME server (scripts/testbed/acme-standin.py): what pebble 2.4 cannot do (ARI,
/// profiles) and hostile behaviour.
@Suite(.enabled(if: TestTier.full, "starts the ACME stand-in: not in make check"))
struct StandInTests {
    func withStandIn(
        _ mode: String, limits: ACMELimits = .forTests(), _ body: (ACMEClient, StandInServer) async throws -> Void
    ) async throws {
        let server = try StandInServer(mode: mode)
        defer { server.stop() }
        let client = try ACMEClient(
            directoryURL: server.directoryURL, trustFile: server.trustFile,
            logger: testLogger(), limits: limits)
        do {
            try await body(client, server)
        } catch {
            await client.shutdown()
            throw error
        }
        await client.shutdown()
    }

    @Test func profileAndReplacesAreSentWhenTheDirectoryOffersThem() async throws {
        try await withStandIn("ari-profiles") { client, server in
            let directory = try await client.directory()
            #expect(directory.profiles.keys.sorted() == ["shortlived", "tlsserver"])
            #expect(directory.renewalInfo != nil)
            _ = try await client.account(key: .generate(), contact: ["a@example.com"], eab: nil)
            let order = try await client.newOrder(
                [.dns("a.example.com")], profile: "shortlived",
                replaces: "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE")
            #expect(order.profile == "shortlived")
            let unknown = await #expect(throws: ACMEError.self) {
                try await client.newOrder([.dns("a.example.com")], profile: "classic", replaces: nil)
            }
            #expect(unknown?.code == .invalidInput)
            #expect(unknown?.description.contains("shortlived, tlsserver") == true)
            let sent = try server.requests().filter { $0.path == "/new-order" }
            #expect(sent.count == 1)
            let payload = try #require(sent.first?.payload as? [String: Any])
            #expect(payload["profile"] as? String == "shortlived")
            #expect(payload["replaces"] as? String == "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE")
            let account = try #require(server.requests().first { $0.path == "/new-account" }?.payload as? [String: Any])
            #expect(account["termsOfServiceAgreed"] as? Bool == true)
            #expect(account["contact"] as? [String] == ["mailto:a@example.com"])
        }
    }

    @Test func pollingHonoursRetryAfter() async throws {
        try await withStandIn("ari-profiles", limits: .forTests(pollTimeout: 3.5)) { client, server in
            _ = try await client.account(key: .generate(), contact: [], eab: nil)
            let order = try await client.newOrder([.dns("a.example.com")], profile: nil, replaces: nil)
            let error = await #expect(throws: ACMEError.self) {
                try await client.pollOrder(url: order.url, until: ["ready"])
            }
            #expect(error?.code == .timeout)
            // Retry-After: 1 within 3.5 s allows polls at 0, 1, 2, 3 and 3.5 s at most (fewer on a loaded
            // machine: the bound that matters is the upper one); 50 ms doubling up to 2 s would make seven.
            let polls = try server.requests().filter { $0.path == "/order/1" }.count
            #expect(polls >= 1 && polls <= 5, "\(polls) polls")
        }
    }

    @Test func renewalInfoIsParsed() async throws {
        try await withStandIn("ari-profiles") { client, server in
            let info = try #require(try await client.renewalInfo(for: try ariExampleCertificate()))
            #expect(info.windowStart == Date(timeIntervalSince1970: 1_893_553_445))
            #expect(info.windowEnd == Date(timeIntervalSince1970: 1_893_639_845.5))
            #expect(info.explanationURL == "https://example.com/why")
            #expect(info.retryAfter == 21600)
            #expect(try server.requests().contains { $0.path == "/renewal-info/aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE" })
        }
    }

    @Test func withoutRenewalInfoOrProfilesNothingIsSent() async throws {
        try await withStandIn("hostile-token") { client, server in
            _ = try await client.account(key: .generate(), contact: [], eab: nil)
            #expect(try await client.renewalInfo(for: try ariExampleCertificate()) == nil)
            _ = try await client.newOrder([.dns("a.example.com")], profile: "shortlived", replaces: "x.y")
            let payload = try #require(server.requests().first { $0.path == "/new-order" }?.payload as? [String: Any])
            #expect(payload["profile"] == nil)
            #expect(payload["replaces"] == nil)
        }
    }

    @Test func hostileTokenIsRefused() async throws {
        try await withStandIn("hostile-token") { client, _ in
            _ = try await client.account(key: .generate(), contact: [], eab: nil)
            let order = try await client.newOrder([.dns("a.example.com")], profile: nil, replaces: nil)
            let error = await #expect(throws: ACMEError.self) {
                try await client.authorization(url: try #require(order.authorizations.first))
            }
            #expect(error?.code == .invalidInput)
            #expect(error?.description.contains("../../etc/x") == true)
        }
    }

    @Test func oversizedResponseIsRefusedNamingTheLimit() async throws {
        try await withStandIn("oversized") { client, server in
            _ = try await client.account(key: .generate(), contact: [], eab: nil)
            let error = await #expect(throws: ACMEError.self) {
                try await client.newOrder([.dns("a.example.com")], profile: nil, replaces: nil)
            }
            #expect(error?.code == .badResponse)
            #expect(error?.description.contains("limit of 1048576 bytes") == true)
            #expect(error?.description.contains("stopped reading") == true)
            #expect(error?.description.contains("https://127.0.0.1:\(server.port)/new-order") == true)
            let announced = await #expect(throws: ACMEError.self) {
                try await client.order(url: "https://127.0.0.1:\(server.port)/order/1")
            }
            #expect(announced?.description.contains("announces 41943") == true)
            #expect(announced?.description.contains("limit of 1048576 bytes") == true)
        }
    }

    @Test func nonJSONErrorBodyGivesAClearMessage() async throws {
        try await withStandIn("non-json-error") { client, server in
            let error = await #expect(throws: ACMEError.self) {
                try await client.account(key: .generate(), contact: [], eab: nil)
            }
            #expect(error?.code == .badResponse)
            #expect(error?.status == 500)
            let text = error?.description ?? ""
            #expect(text.hasPrefix("HTTP 500 from POST https://127.0.0.1:\(server.port)/new-account: non-JSON body"))
            #expect(text.contains("<html>"))
        }
    }

    @Test func chainWhoseLeafIsNotSignedByTheIntermediateFailsTheCheck() async throws {
        try await withStandIn("bad-chain") { client, _ in
            _ = try await client.account(key: .generate(), contact: [], eab: nil)
            let order = try await client.newOrder([.dns("a.example.com")], profile: nil, replaces: nil)
            let chain = try await client.downloadCertificate(url: try #require(order.certificate), preferredChain: nil)
            #expect(chain.certificates.count == 2)
            let error = #expect(throws: ACMEError.self) {
                try ACMEChainCheck.verify(chain, expectedPublicKeyDER: nil, identifiers: ["a.example.com"])
            }
            #expect(error?.code == .chainInvalid)
            #expect(error?.description.contains("not signed by the next certificate") == true)
        }
    }
}
