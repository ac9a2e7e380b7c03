import Foundation
@testable import SSLMCLI
import SSLMTestSupport
import Testing

@Suite("The log file")
struct LogFileTests {
    @Test("rotates at the size limit and keeps the configured number of backups")
    func rotation() throws {
        let scratch = try ScratchTopdir("sslm-log")
        defer { scratch.remove() }
        let dir = scratch.path
        let file = try RotatingLogFile(path: dir + "/sslm", maximumBytes: 1000, backups: 2)
        for index in 0..<100 { file.write("line \(index) " + String(repeating: "x", count: 40)) }
        let names = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        #expect(names == ["sslm", "sslm.1", "sslm.2"])
        for name in names {
            let size = try FileManager.default.attributesOfItem(atPath: dir + "/" + name)[.size] as? Int ?? 0
            #expect(size <= 1000 && size > 0)
        }
        let newest = try String(contentsOfFile: dir + "/sslm", encoding: .utf8)
        #expect(newest.contains("line 99 "))
        #expect(
            !(try String(contentsOfFile: dir + "/sslm.2", encoding: .utf8)).contains("line 0 "),
            "the oldest lines are gone")
    }

    @Test("apply writes what it did to <logdir>/sslm")
    func applyLogs() throws {
        // conf.d.example as it is (only the root CA is applied).
        let topdir = try ExampleTopdir.make("sslm-applylog", ecKeys: false, keepPort25: true)
        defer { try? FileManager.default.removeItem(atPath: topdir) }
        let result = try SSLMProcess.run(["apply", "ca:my-root", "--topdir", topdir])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        let log = try String(contentsOfFile: topdir + "/logs/sslm", encoding: .utf8)
        #expect(log.contains("info roll ca/my-root/roll"))
        #expect(log.contains("apply finished:"))
        #expect(!log.contains("PRIVATE KEY"))
    }
}
