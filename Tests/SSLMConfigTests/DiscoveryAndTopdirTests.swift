import Foundation
import SSLMConfig
import SSLMCore
import SSLMTestSupport
import Testing

@Suite("services = '*' discovery and topdir resolution")
struct DiscoveryAndTopdirTests {
    static let webFile = """
        name = 'Web'
        group = 'example.com'
        service = 'web'
        signing_ca = 'int'
        [KeyOpts]
        [X509]
        CN = 'www.example.com'
        O = 'Example'
        C = 'US'
        """

    @Test(arguments: ["'*'", "'ALL'", "['*']", "['ALL']"])
    func discoversServiceFiles(spelling: String) throws {
        let topdir = try TestTopdir([
            "ssl-mgr.conf": replacing("ssl-mgr.conf", "services = ['mail']", with: "services = \(spelling)"),
            "example.com/web": Self.webFile,
            "example.com/web~": Self.webFile,  // editor backup: skipped
            "example.com/.hidden": Self.webFile,  // hidden: skipped
            "example.com/web.dpkg-old": Self.webFile,  // package-manager leftover: skipped
            "example.com/README": "This directory holds the service files of example.com.\n",  // not a service file
            "example.com/partial": "name = 'x'\ngroup = 'example.com'\n[KeyOpts]\n",  // lacks service= and [X509]
        ])
        let result = topdir.load()
        let config = try #require(result.config, "\(result.diagnostics)")
        let group = try #require(config.groups.first { $0.domain == "example.com" })
        #expect(group.discovered)
        #expect(group.services == ["mail", "web"])
        #expect(config.activeServices.contains(ServiceAddress(group: "example.com", service: "web")))
    }

    @Test("a file that looks like a service but is broken is reported, not skipped")
    func brokenDiscoveredFile() throws {
        let topdir = try TestTopdir([
            "ssl-mgr.conf": replacing("ssl-mgr.conf", "services = ['mail']", with: "services = '*'"),
            "example.com/web": Self.webFile.replacingOccurrences(of: "C = 'US'", with: "C = 'U'"),
        ])
        let errors = topdir.load().diagnostics.errors
        #expect(errors.contains { $0.file == "conf.d/example.com/web" && $0.key == "C" })
    }

    /// Creates `root/<name>/conf.d` for each name and returns root (the caller removes it).
    private func makeCandidates(_ names: [String]) throws -> String {
        let root = try ScratchTopdir("sslm-topdir", removesItself: false)
        for name in ["env", "cwd", "etc", "explicit"] { try root.mkdir(name) }
        for name in names { try root.mkdir(name + "/conf.d") }
        return root.path
    }

    @Test("order: --topdir, $SSL_MGR_TOPDIR, ./, /etc/ssl-mgr — the first with a conf.d")
    func resolutionOrder() throws {
        let root = try makeCandidates(["env", "cwd", "etc", "explicit"])
        defer { try? FileManager.default.removeItem(atPath: root) }
        func resolver(explicit: String? = nil, env: String? = root + "/env") -> TopdirResolver {
            TopdirResolver(
                explicit: explicit, environment: env.map { ["SSL_MGR_TOPDIR": $0] } ?? [:],
                workingDirectory: root + "/cwd", systemDirectory: root + "/etc")
        }
        #expect(try resolver(explicit: root + "/explicit").resolve() == root + "/explicit")
        #expect(try resolver().resolve() == root + "/env")
        #expect(try resolver(env: "").resolve() == root + "/cwd", "an empty $SSL_MGR_TOPDIR is ignored")
        #expect(try resolver(env: nil).resolve() == root + "/cwd")
        try FileManager.default.removeItem(atPath: root + "/env/conf.d")
        #expect(try resolver().resolve() == root + "/cwd", "a $SSL_MGR_TOPDIR without conf.d is skipped")
        try FileManager.default.removeItem(atPath: root + "/cwd/conf.d")
        #expect(try resolver().resolve() == root + "/etc")
    }

    @Test("a relative --topdir is taken from the working directory")
    func relativeExplicit() throws {
        let root = try makeCandidates(["cwd/sub"])
        defer { try? FileManager.default.removeItem(atPath: root) }
        let resolver = TopdirResolver(
            explicit: "sub", environment: [:], workingDirectory: root + "/cwd",
            systemDirectory: root + "/etc")
        #expect(try resolver.resolve() == root + "/cwd/sub")
    }

    @Test("no candidate: an error that lists every place tried")
    func nothingFound() throws {
        let root = try makeCandidates([])
        defer { try? FileManager.default.removeItem(atPath: root) }
        let resolver = TopdirResolver(
            explicit: nil, environment: ["SSL_MGR_TOPDIR": root + "/env"],
            workingDirectory: root + "/cwd", systemDirectory: root + "/etc")
        let error = #expect(throws: SSLMError.self) { try resolver.resolve() }
        #expect(error?.code == .topdirNotFound)
        for place in ["env", "cwd", "etc"] { #expect(error?.message.contains(root + "/" + place + "/conf.d") == true) }
        let explicit = TopdirResolver(
            explicit: root + "/explicit", environment: [:], workingDirectory: root + "/cwd",
            systemDirectory: root + "/etc")
        #expect(throws: SSLMError.self) { try explicit.resolve() }
    }
}
