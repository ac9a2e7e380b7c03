import Foundation
import SSLMCore
import Testing

@testable import SSLMConfig

/// The parsed-config cache is advisory: whatever happens to the service files between two loads, loading
/// through the cache gives exactly the config that parsing every file gives, and a changed file is parsed.
@Suite("The config cache sees every change of a service file and is only advisory")
struct ConfigCacheTests {
    static let mail = "conf.d/example.com/mail"

    /// Loads through the topdir's cache, keeping the entries, and writes the cache as a writer would.
    @discardableResult
    func loadCached(_ topdir: TestTopdir) throws -> (ConfigLoadResult, ConfigCache) {
        let result = ConfigLoader.load(topdir: topdir.path, cache: .record)
        let cache = try #require(result.cache)
        try FileManager.default.createDirectory(atPath: topdir.file(".sslm"), withIntermediateDirectories: true)
        try Data(cache.encode()).write(to: URL(fileURLWithPath: topdir.file(ConfigCache.relativePath)))
        return (result, cache)
    }

    /// The load through the cache equals the load without it (config, digest and diagnostics).
    func expectSameAsUncached(_ topdir: TestTopdir, _ cached: ConfigLoadResult) {
        let plain = ConfigLoader.load(topdir: topdir.path)
        #expect(cached.config?.services == plain.config?.services)
        #expect((cached.config == nil) == (plain.config == nil))
        #expect(cached.diagnostics == plain.diagnostics)
        #expect(cached.config?.digest == plain.config?.digest)
    }

    @Test("an unchanged conf.d is answered by the cache: no service file parsed, the same config")
    func unchangedIsHit() throws {
        let topdir = try TestTopdir()
        defer { topdir.remove() }
        let (first, firstCache) = try loadCached(topdir)
        #expect(first.config != nil)
        #expect(firstCache.hits == 0)
        #expect(firstCache.misses == 3)
        #expect(firstCache.keptCount == 3)
        let (second, cache) = try loadCached(topdir)
        #expect(cache.hits == 3)
        #expect(cache.misses == 0)
        expectSameAsUncached(topdir, second)
        #expect(second.config?.services == first.config?.services)
        #expect(second.config?.services.count == 3)
    }

    @Test("an edit in place of the same size with mtime restored to the nanosecond is parsed")
    func sameSizeSameMtime() throws {
        let topdir = try TestTopdir()
        defer { topdir.remove() }
        try loadCached(topdir)
        let path = topdir.file(Self.mail)
        let before = try String(contentsOfFile: path, encoding: .utf8)
        let time = try modified(path)
        let edited = before.replacingOccurrences(of: "'Example'", with: "'Exampl3'")
        #expect(edited.utf8.count == before.utf8.count)
        let handle = try #require(FileHandle(forUpdatingAtPath: path))
        try handle.write(contentsOf: Data(edited.utf8))
        try handle.close()
        try setModified(path, to: time)
        #expect(try modified(path).tv_nsec == time.tv_nsec)
        #expect(try modified(path).tv_sec == time.tv_sec)

        let (result, cache) = try loadCached(topdir)
        #expect(cache.misses == 1)
        #expect(cache.hits == 2)
        let mail = try #require(result.config?.service(ServiceAddress(group: "example.com", service: "mail")))
        #expect(mail.subject.organization == "Exampl3")
        expectSameAsUncached(topdir, result)
    }

    @Test("a same-size file with the same mtime renamed over a service file is parsed")
    func renamedOver() throws {
        let topdir = try TestTopdir()
        defer { topdir.remove() }
        try loadCached(topdir)
        let path = topdir.file(Self.mail)
        let before = try String(contentsOfFile: path, encoding: .utf8)
        let time = try modified(path)
        let other = path + ".new"
        try before.replacingOccurrences(of: "rsa_bits = 2048", with: "rsa_bits = 4096")
            .write(toFile: other, atomically: false, encoding: .utf8)
        try setModified(other, to: time)
        #expect(rename(other, path) == 0)

        let (result, cache) = try loadCached(topdir)
        #expect(cache.misses == 1)
        let mail = try #require(result.config?.service(ServiceAddress(group: "example.com", service: "mail")))
        #expect(mail.key == .rsa(bits: 4096))
        expectSameAsUncached(topdir, result)
    }

    @Test("the key is the content: an entry stored for other bytes at the same path is not used")
    func keyIsTheContent() throws {
        let topdir = try TestTopdir()
        defer { topdir.remove() }
        let (_, first) = try loadCached(topdir)
        // Stored parses answer only their own bytes: the digest of other bytes finds nothing.
        let original = try Data(contentsOf: URL(fileURLWithPath: topdir.file(Self.mail)))
        let loaded = ConfigCache.load(topdir: topdir.path, globalRenewInfo: .builtin, recording: false)
        #expect(loaded.parsed("example.com/mail", digest: ContentDigest.sha256Hex(original)) != nil)
        #expect(loaded.parsed("example.com/mail", digest: ContentDigest.sha256Hex(original + Data(" ".utf8))) == nil)
        #expect(loaded.parsed("example.com/web", digest: ContentDigest.sha256Hex(original)) == nil)
        #expect(first.keptCount == 3)
    }

    @Test("a file with a warning is never stored, so its warning is reported on every load")
    func diagnosticsAreNotCached() throws {
        let topdir = try TestTopdir([
            "example.com/mail": appending("example.com/mail", "unknown_key = 1")
        ])
        defer { topdir.remove() }
        let (first, cache) = try loadCached(topdir)
        #expect(!first.diagnostics.isEmpty)
        #expect(cache.keptCount == 2)
        let (second, again) = try loadCached(topdir)
        #expect(again.misses == 1)
        #expect(second.diagnostics == first.diagnostics)
        expectSameAsUncached(topdir, second)
    }

    @Test("a changed global [renew_info] drops every entry")
    func globalsAreTheContext() throws {
        let topdir = try TestTopdir()
        defer { topdir.remove() }
        try loadCached(topdir)
        let main = topdir.file("conf.d/ssl-mgr.conf")
        let text = try String(contentsOfFile: main, encoding: .utf8)
        try (text + "\n[renew_info]\n    target_90 = 25.0\n").write(toFile: main, atomically: false, encoding: .utf8)
        let (result, cache) = try loadCached(topdir)
        #expect(cache.hits == 0)
        #expect(cache.misses == 3)
        expectSameAsUncached(topdir, result)
        let mail = try #require(result.config?.service(ServiceAddress(group: "example.com", service: "mail")))
        #expect(mail.renewInfo != RenewInfo.builtin)
    }

    @Test(
        "a damaged, truncated, foreign or empty cache is ignored",
        arguments: ["truncate", "flip", "foreign", "empty"])
    func damagedIsIgnored(damage: String) throws {
        let topdir = try TestTopdir()
        defer { topdir.remove() }
        try loadCached(topdir)
        let path = topdir.file(ConfigCache.relativePath)
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        switch damage {
        case "truncate": bytes.removeLast(bytes.count / 3)
        case "flip": bytes[bytes.count - 40] ^= 0x01
        case "foreign": bytes = Array("sslm-config-cache\n".utf8) + [9] + bytes.dropFirst(19)
        default: bytes = []
        }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let result = ConfigLoader.load(topdir: topdir.path, cache: .read)
        let cache = try #require(result.cache)
        #expect(cache.hits + cache.misses == 3)
        expectSameAsUncached(topdir, result)
    }

    @Test("every field of a service survives the binary form")
    func roundTrip() throws {
        var config = try #require(
            TestTopdir.loadedService(ScratchTopdirFiles.mail, address: ("example.com", "mail")))
        config.checkEndpoints = [
            CheckEndpoint(host: "mail.example.com", port: 25, startTLS: "smtp"),
            CheckEndpoint(host: "2001:db8::1", port: 443),
        ]
        config.signing = SigningSettings(validityDays: 90, digest: .sha384)
        config.daneTTL = 300
        config.dane.append(DANESpec(port: 443, proto: "tcp", usage: 2, selector: 0, matchingType: 2, subtype: .sans))
        for key in [KeySpec.ed25519, .rsa(bits: 3072), .ec(.secp384r1)] {
            config.key = key
            let parsed = ParsedService(config: config, hasCATable: true)
            var writer = ByteWriter()
            writer.parsedService(parsed)
            var reader = ByteReader(writer.bytes)
            let back = try reader.parsedService()
            #expect(reader.isAtEnd)
            #expect(back.config == parsed.config)
            #expect(back.hasCATable)
        }
    }

    /// The exact `st_mtim` (nanoseconds), as `touch -d` would restore it.
    private func modified(_ path: String) throws -> timespec {
        var info = stat()
        try #require(stat(path, &info) == 0)
        return info.st_mtim
    }

    private func setModified(_ path: String, to time: timespec) throws {
        let times = [time, time]
        try #require(utimensat(AT_FDCWD, path, times, 0) == 0)
    }
}

/// The baseline mail service file, for the round trip.
enum ScratchTopdirFiles {
    static let mail = TestTopdir.baseline["example.com/mail"] ?? ""
}

extension TestTopdir {
    /// The service `address` parsed from `text` alone (no cache).
    static func loadedService(_ text: String, address: (String, String)) -> ServiceConfig? {
        guard case .success(let document) = ConfigFiles.parse(Data(text.utf8)).result else { return nil }
        let parser = ServiceParser(sink: DiagnosticSink(), globalRenewInfo: .builtin)
        return parser.parse(document, address: ServiceAddress(group: address.0, service: address.1))?.config
    }
}
