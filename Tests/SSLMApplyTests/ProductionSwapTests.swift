import Foundation
import SSLMDeploy
import SSLMPKI
import SSLMPlan
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `ProductionSync.replaceDirectory` changes a directory as a whole: a reader that opens the directory and
/// reads the key and the certificate relative to it never gets a key of one set and a certificate of another,
/// however the swaps and reads interleave.
@Suite("Whole-directory production swap")
struct ProductionSwapTests {
    /// Counts of a reader thread.
    final class ReaderTally: @unchecked Sendable {
        let lock = NSLock()
        var consistent = 0
        var mismatched = 0
        var vanished = 0
        var stop = false
        var finished = false
    }

    @Test("a concurrent reader never sees a key of one set with the certificate of another")
    func readerSeesWholeSets() async throws {
        let fixture = try ApplyFixture()
        let web = "example.net/web"
        _ = try await fixture.executor().apply(Plans.plan(Plans.build(web, signer: "self")))
        let day2 = ApplyFixture.now.addingTimeInterval(86_400)
        _ = try await fixture.executor(now: day2).apply(
            Plans.plan(Plans.build(web, signer: "self", roll: false), fingerprint: "sha256:2"))
        let sets = [
            fixture.serviceDir(web) + "/db/" + (try #require(fixture.link(web, "curr"))),
            fixture.serviceDir(web) + "/db/" + (try #require(fixture.link(web, "next"))),
        ]
        let files = ["privkey.pem", "cert.pem", "chain.pem", "fullchain.pem", "bundle.pem", "csr.pem"]
        let destination = fixture.path + "/swap/curr"
        try ProductionSync.replaceDirectory(at: destination, copying: files, from: sets[0])

        let tally = ReaderTally()
        DispatchQueue.global().async {
            while !tally.lock.withLock({ tally.stop }) {
                let outcome = Self.readOnce(destination)
                tally.lock.withLock {
                    switch outcome {
                    case true?: tally.consistent += 1
                    case false?: tally.mismatched += 1
                    case nil: tally.vanished += 1
                    }
                }
            }
            tally.lock.withLock { tally.finished = true }
        }
        for round in 0..<150 {
            try ProductionSync.replaceDirectory(at: destination, copying: files, from: sets[round % 2])
            if round % 10 == 0 { try await Task.sleep(for: .milliseconds(2)) }
        }
        tally.lock.withLock { tally.stop = true }
        while !tally.lock.withLock({ tally.finished }) { try await Task.sleep(for: .milliseconds(5)) }
        let (consistent, mismatched) = tally.lock.withLock { (tally.consistent, tally.mismatched) }
        #expect(mismatched == 0)
        #expect(consistent > 0)
        // No staging or aside directories are left behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: fixture.path + "/swap") == ["curr"])
        #expect(fixture.read(destination + "/cert.pem") == fixture.read(sets[1] + "/cert.pem"))
    }

    /// Opens the directory once and reads key and certificate relative to it: true when they match, false
    /// when they do not, nil when the directory was removed under the reader (an old set being deleted).
    static func readOnce(_ directory: String) -> Bool? {
        let dirFD = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard dirFD >= 0 else { return nil }
        defer { close(dirFD) }
        guard let key = readAt(dirFD, "privkey.pem"), let cert = readAt(dirFD, "cert.pem") else { return nil }
        guard let pair = try? KeyPair(pem: String(decoding: key, as: UTF8.self), file: "privkey.pem"),
            let certificate = try? CertificatePEM.decodeAll(cert, file: "cert.pem").first
        else { return false }
        return pair.matches(certificate.publicKey)
    }

    static func readAt(_ dirFD: Int32, _ name: String) -> [UInt8]? {
        let fd = openat(dirFD, name, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 8192)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count <= 0 { break }
            bytes += buffer.prefix(count)
        }
        return bytes
    }
}
