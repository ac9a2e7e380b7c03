import Foundation
import SSLMConfig
import SSLMCore
import SSLMTestSupport
import Testing
@testable import SSLMObserve

/// The observation cache is advisory: whatever happens to the files between two observations, observing
/// through the cache gives exactly what reading every file gives.
@Suite("The observation cache sees every change and is only advisory")
struct ObservationCacheTests {
    /// A topdir with `mail` (curr, next) and `web` (curr) in certs and production.
    func fixture() throws -> ObserveFixture {
        let f = try ObserveFixture()
        try f.makeDBDir(ObserveFixture.root, ts1)
        try f.link(ObserveFixture.root, "curr", ts1)
        try f.makeDBDir(ObserveFixture.mail, ts1)
        try f.makeDBDir(ObserveFixture.mail, ts2)
        try f.link(ObserveFixture.mail, "curr", ts1)
        try f.link(ObserveFixture.mail, "next", ts2)
        try f.makeDBDir(ObserveFixture.web, ts1)
        try f.link(ObserveFixture.web, "curr", ts1)
        try f.copyToProduction(ObserveFixture.mail, ts1)
        try f.copyToProduction(ObserveFixture.web, ts1)
        return f
    }

    /// Observes through the topdir's cache, as if the observation began `ahead` seconds from now (so that
    /// files written by the test a moment ago are not racy), and writes the cache.
    func observeCached(_ f: ObserveFixture, ahead: Double = 5) throws -> (Observation, ObservationCache) {
        let config = try f.config()
        let context = ObservationCache.context(issuerFiles: [])
        let cache = ObservationCache.load(
            topdir: f.path, context: context, startedAt: FileSignature.now() + Int64(ahead * 1e9))
        let observation = Observer.observe(
            config: config, services: Array(config.services.keys), dns: [], localHostNames: ["host"], cache: cache)
        try cache.write(topdir: f.path)
        return (observation, cache)
    }

    /// The observation through the cache and without it agree (fingerprint and every service).
    func expectAgrees(_ f: ObserveFixture, _ comment: Comment) throws -> Observation {
        let (cached, _) = try observeCached(f)
        let read = try f.observe()
        #expect(cached.fingerprint == read.fingerprint, comment)
        #expect(cached.services == read.services, comment)
        #expect(cached.production == read.production, comment)
        return read
    }

    @Test("a second observation is answered from the cache and equals reading every file")
    func hits() throws {
        let f = try fixture()
        let (first, cold) = try observeCached(f)
        #expect(cold.hits == 0)
        #expect(cold.misses > 0)
        #expect(ObservationCache.context(issuerFiles: []).count == 64)
        let (second, warm) = try observeCached(f)
        #expect(warm.misses == 0)
        #expect(warm.hits == cold.misses)
        #expect(second == first)
        #expect(second.fingerprint == (try f.observe()).fingerprint)
        #expect(ScratchTopdir.mode(f.file(ObservationCache.relativePath)) == 0o600)
        // A run that will not write the cache (plan, status) uses it and keeps nothing.
        let config = try f.config()
        let readOnly = ObservationCache.load(
            topdir: f.path, context: ObservationCache.context(issuerFiles: []),
            startedAt: FileSignature.now() + 5_000_000_000, recording: false)
        let third = Observer.observe(
            config: config, services: Array(config.services.keys), dns: [], localHostNames: ["host"],
            cache: readOnly)
        #expect(third == first)
        #expect(readOnly.hits == cold.misses)
        #expect(readOnly.keptCount == 0)
    }

    /// Each change keeps what a cheap check would look at where it can: the size, and the mtime set back.
    @Test(
        "edits, truncation, a rename over, mtime set back, chmod, a new or removed file, a moved link are seen",
        arguments: [
            "flip a byte of curr/cert.pem, mtime set back",
            "truncate production cert.pem",
            "rename a same-size file over production chain.pem, mtime set back",
            "chmod privkey.pem 0644",
            "remove info of curr",
            "add a file to curr",
            "add a file to curr, the directory's mtime set back",
            "remove info of curr and add a same-size file of another name, mtimes set back",
            "curr points to next's directory",
            "flip a byte of production fullchain.pem, mtime set back",
        ])
    func changes(change: String) throws {
        let f = try fixture()
        let before = try expectAgrees(f, "before: \(change)")
        let currCert = ObserveFixture.serviceDir(ObserveFixture.mail) + "/db/\(ts1)/cert.pem"
        switch change {
        case "flip a byte of curr/cert.pem, mtime set back": try flipKeepingTime(f, currCert)
        case "truncate production cert.pem": try f.write("prod/example.com/mail/curr/cert.pem", "")
        case "rename a same-size file over production chain.pem, mtime set back":
            let target = "prod/example.com/mail/curr/chain.pem"
            let original = try f.read(target)
            try f.write("prod/example.com/mail/curr/new", String(repeating: "x", count: original.utf8.count))
            try setModified(f.file("prod/example.com/mail/curr/new"), to: try modified(f.file(target)))
            #expect(rename(f.file("prod/example.com/mail/curr/new"), f.file(target)) == 0)
        case "chmod privkey.pem 0644":
            #expect(
                chmod(f.file(ObserveFixture.serviceDir(ObserveFixture.mail) + "/db/\(ts1)/privkey.pem"), 0o644) == 0)
        case "remove info of curr": try f.remove(ObserveFixture.serviceDir(ObserveFixture.mail) + "/db/\(ts1)/info")
        case "add a file to curr": try f.write(ObserveFixture.serviceDir(ObserveFixture.mail) + "/db/\(ts1)/extra", "x")
        case "add a file to curr, the directory's mtime set back":
            let directory = ObserveFixture.serviceDir(ObserveFixture.mail) + "/db/\(ts1)"
            let time = try modified(f.file(directory))
            try f.write(directory + "/extra", "x")
            try setModified(f.file(directory), to: time)
        case "remove info of curr and add a same-size file of another name, mtimes set back":
            let directory = ObserveFixture.serviceDir(ObserveFixture.mail) + "/db/\(ts1)"
            let time = try modified(f.file(directory))
            let info = try f.read(directory + "/info")
            let infoTime = try modified(f.file(directory + "/info"))
            try f.remove(directory + "/info")
            try f.write(directory + "/inf0", info)
            try setModified(f.file(directory + "/inf0"), to: infoTime)
            try setModified(f.file(directory), to: time)
        case "curr points to next's directory":
            try f.remove(ObserveFixture.serviceDir(ObserveFixture.mail) + "/curr")
            try f.link(ObserveFixture.mail, "curr", ts2)
        default: try flipKeepingTime(f, "prod/example.com/mail/curr/fullchain.pem")
        }
        let after = try expectAgrees(f, "after: \(change)")
        #expect(after.fingerprint != before.fingerprint, "\(change): the change is seen")
    }

    /// The db directory's own signature lets a warm observation skip listing it; it is compared whole, so
    /// a listing change with the directory's `mtime` set back is still seen (its `ctime` moved): see the
    /// cases of `changes` above. Here: the signature is stored, and a directory changed within the racy
    /// margin gets none (it is listed next time).
    @Test("a db directory's own signature is kept, except when racy")
    func directorySignature() throws {
        let f = try fixture()
        let (_, cache) = try observeCached(f)
        #expect(!cache.keptDirectoryEntries.isEmpty)
        #expect(cache.keptDirectoryEntries.allSatisfy { $0.directory != nil })
        let path = f.file(ObserveFixture.serviceDir(ObserveFixture.mail) + "/db/\(ts1)")
        let signature = try #require(FileSignature(path, followLinks: false))
        #expect(cache.keptDirectoryEntries.contains { $0.directory == signature })
        let racy = ObservationCache.load(
            topdir: f.path, context: ObservationCache.context(issuerFiles: []), startedAt: FileSignature.now())
        racy.store(
            ObservationCache.DirectoryEntry(
                files: [:],
                directory: FileSignature(
                    device: 1, inode: 2, size: 3, modified: FileSignature.now(), changed: FileSignature.now(),
                    mode: 0o40755),
                state: DBDirectoryReader.nameOnly(ts1).state, leafDER: nil),
            path: "/x", validate: true)
        #expect(racy.keptDirectoryEntries.count == 1)
        #expect(racy.keptDirectoryEntries.allSatisfy { $0.directory == nil })
    }

    @Test("files changed within a second of the observation's start are not stored (racily clean)")
    func racy() throws {
        let f = try fixture()
        let (_, cache) = try observeCached(f, ahead: 0)
        #expect(cache.keptCount == 0)
        let (_, later) = try observeCached(f, ahead: 5)
        #expect(later.keptCount > 0)
    }

    @Test("a damaged (a flipped bit too), foreign or missing cache is ignored: the observation is the same")
    func advisory() throws {
        let f = try fixture()
        let reference = try f.observe()
        _ = try observeCached(f)
        let path = f.file(ObservationCache.relativePath)
        let good = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        let context = ObservationCache.context(issuerFiles: [])
        #expect(ObservationCache.load(topdir: f.path, context: context).loadedCount.directories > 0)
        #expect(ObservationCache.load(topdir: f.path, context: "another").loadedCount.directories == 0)
        // A flipped bit in the middle is inside an entry's facts, which would still decode: the file's
        // digest is what refuses it.
        var flipped = good
        flipped[good.count / 2] ^= 0x04
        for damaged in [Array(good.prefix(good.count / 2)), good + [0], Array(good.dropFirst(3)), [], flipped] {
            try f.write(ObservationCache.relativePath, damaged)
            #expect(ObservationCache.load(topdir: f.path, context: context).loadedCount.files == 0)
            let (observation, _) = try observeCached(f)
            #expect(observation.fingerprint == reference.fingerprint)
        }
        try f.remove(ObservationCache.relativePath)
        #expect(try observeCached(f).0.fingerprint == reference.fingerprint)
    }

    @Test("the binary form of a db directory, a service and a production copy reads back equal")
    func codec() throws {
        let f = try fixture()
        let observation = try f.observe()
        let states = observation.services.flatMap(\.dbDirs).filter { $0.certificate != nil }
        #expect(states.count >= 3)
        var extra = try #require(states.first)
        extra.damage = ["chain.pem": "does not issue cert.pem"]
        extra.modeDrift = ["privkey.pem": "0644"]
        extra.problems = ["csr.pem": "no PEM block"]
        extra.key?.spec = .rsa(bits: 4096)
        for state in states + [extra] {
            var writer = ByteWriter()
            writer.dbDirectory(state)
            var reader = ByteReader(writer.bytes)
            #expect(try reader.dbDirectory() == state)
            #expect(reader.isAtEnd)
        }
        var services = observation.services
        services[0].prev = .dangling("db/x")
        services[0].next = .notALink
        services[0].strayEntries = ["stray"]
        for state in services {
            var writer = ByteWriter()
            writer.serviceState(state)
            var reader = ByteReader(writer.bytes)
            #expect(try reader.serviceState() == state)
            #expect(reader.isAtEnd)
        }
        var productions = observation.production.services
        productions[0].leftovers = [".next.tmp-1"]
        productions[0].modeDrift = ["curr/privkey.pem": "0644"]
        for state in productions {
            var writer = ByteWriter()
            writer.productionService(state)
            var reader = ByteReader(writer.bytes)
            #expect(try reader.productionService() == state)
            #expect(reader.isAtEnd)
        }
    }

    private func flipKeepingTime(_ f: ObserveFixture, _ relative: String) throws {
        let time = try modified(f.file(relative))
        try f.flipByte(relative)
        try setModified(f.file(relative), to: time)
        #expect(try modified(f.file(relative)) == time)
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

extension timespec: @retroactive Equatable {
    public static func == (a: timespec, b: timespec) -> Bool { a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec }
}
