import Foundation
import SSLMApply
import SSLMCore
import SSLMPlan
import Testing

@Suite("retire_service: archive, production, resume")
struct RetireServiceTests {
    /// `example.net/web` installed and in production, then moved to `example.net/old` (certs/ and production),
    /// a service the config does not have.
    private func orphanedService() async throws -> ApplyFixture {
        let fixture = try ApplyFixture()
        let web = "example.net/web"
        let install = try await fixture.executor().apply(
            Plans.plan(Plans.build(web, signer: "self") + [Plans.sync(web, after: ["\(web)/roll"])]))
        #expect(install.succeeded, "\(install.failures)")
        try FileManager.default.moveItem(atPath: fixture.serviceDir(web), toPath: fixture.serviceDir("example.net/old"))
        try FileManager.default.moveItem(
            atPath: fixture.prod + "/example.net/web", toPath: fixture.prod + "/example.net/old")
        return fixture
    }

    private static func retire(_ service: String) -> Action {
        Action(
            id: "\(service)/retire", service: service, payload: .retireService(production: true, revoke: false),
            reason: Plans.reason)
    }

    @Test("archives the whole directory by one rename (0700, keys 0600, same bytes); resumed, it is done")
    func archivesAndResumes() async throws {
        let fixture = try await orphanedService()
        let old = "example.net/old"
        let key = try #require(fixture.read(fixture.file(old, "curr", "privkey.pem")))
        let first = try await fixture.executor().apply(Plans.plan([Self.retire(old)]))
        #expect(first.succeeded, "\(first.failures)")
        #expect(!fixture.exists(fixture.serviceDir(old)))
        #expect(!fixture.exists(fixture.prod + "/example.net/old"))
        let parent = fixture.path + "/certs/.retired/example.net/old"
        let archives = try FileManager.default.contentsOfDirectory(atPath: parent)
        #expect(archives == [Timestamps.dbDirectoryName(ApplyFixture.now)], "\(archives)")
        let archive = parent + "/" + (archives.first ?? "")
        for directory in [
            fixture.path + "/certs/.retired", fixture.path + "/certs/.retired/example.net", parent, archive,
        ] {
            #expect(fixture.mode(directory) == 0o700, "\(directory)")
        }
        #expect(fixture.read(archive + "/curr/privkey.pem") == key)
        #expect(fixture.mode(archive + "/curr/privkey.pem") == 0o600)

        // A later run (another plan) finds it done and changes nothing.
        let again = try await fixture.executor().apply(Plans.plan([Self.retire(old)], fingerprint: "sha256:again"))
        #expect(again.succeeded, "\(again.failures)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: parent) == archives)
        guard case .succeeded(let detail)? = again.results.first?.outcome else {
            Issue.record("the second run did not run the action: \(again.results)")
            return
        }
        #expect(detail?.contains("already archived") == true, "\(detail ?? "no detail")")
    }

    @Test("a second retirement in the same second gets its own archive; a configured service is refused")
    func collisionAndConfiguredService() async throws {
        let fixture = try await orphanedService()
        let old = "example.net/old"
        let parent = fixture.path + "/certs/.retired/example.net/old"
        try FileManager.default.createDirectory(
            atPath: parent + "/" + Timestamps.dbDirectoryName(ApplyFixture.now), withIntermediateDirectories: true)
        let run = try await fixture.executor().apply(Plans.plan([Self.retire(old)]))
        #expect(run.succeeded, "\(run.failures)")
        let archives = try FileManager.default.contentsOfDirectory(atPath: parent).sorted()
        #expect(archives.count == 2 && archives.last?.hasSuffix(".2") == true, "\(archives)")

        let refused = try await fixture.executor().apply(
            Plans.plan([Self.retire("example.net/web")], fingerprint: "sha256:configured"))
        #expect(!refused.succeeded)
        #expect(refused.failures.first?.reason.contains("in the configuration again") == true, "\(refused.failures)")
    }
}
