import Foundation
import SSLMTestSupport
import Testing

@Suite("sslm dhparam")
struct ToolsDHParamTests {
    @Test("the default key list works: five RFC 7919 files, dhparam.pem -> dh-ffdhe8192.pem")
    func defaultList() throws {
        let dir = try ScratchTopdir("sslm-dhparam")
        let t = try ToolsHarness.run(["dhparam", dir.path], in: dir.path)
        #expect(t.status == 0, "\(t.stderr)")
        let dh = dir.path + "/dh"
        let names = try FileManager.default.contentsOfDirectory(atPath: dh).sorted()
        #expect(
            names == [
                "dh-ffdhe2048.pem", "dh-ffdhe3072.pem", "dh-ffdhe4096.pem", "dh-ffdhe6144.pem",
                "dh-ffdhe8192.pem", "dhparam.pem",
            ])
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: dh + "/dhparam.pem") == "dh-ffdhe8192.pem")
        let mode = try FileManager.default.attributesOfItem(atPath: dh)[.posixPermissions] as? Int
        #expect(mode == 0o750)
        // A second run keeps everything.
        let again = try ToolsHarness.run(["dhparam", dir.path], in: dir.path)
        #expect(again.status == 0)
        #expect(!again.stdout.contains("written"))
        #expect(again.stdout.split(separator: "\n").allSatisfy { $0.hasPrefix("kept: ") })
    }

    @Test("numeric sizes are generated, aged and linked; -s skips ca")
    func numericAndSubdirs() throws {
        let dir = try ScratchTopdir("sslm-dhparam")
        for sub in ["example.com", "CA", "example.net"] {
            try FileManager.default.createDirectory(atPath: dir.path + "/" + sub, withIntermediateDirectories: true)
        }
        let t = try ToolsHarness.run(
            ["dhparam", "-k", "512,ffdhe2048", "-s", dir.path, dir.path + "/nope"],
            in: dir.path, now: nil)
        #expect(t.status == 0, "\(t.stderr)")
        #expect(t.stderr.contains("nope: no such directory"))
        for sub in ["example.com", "example.net"] {
            let dh = dir.path + "/" + sub + "/dh"
            #expect(FileManager.default.fileExists(atPath: dh + "/dh512.pem"))
            #expect(FileManager.default.fileExists(atPath: dh + "/dh-ffdhe2048.pem"))
            #expect(try FileManager.default.destinationOfSymbolicLink(atPath: dh + "/dhparam.pem") == "dh512.pem")
        }
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/CA/dh"))
        // Age: 200 days later the numeric file is regenerated, the named one kept.
        let later = ISO8601DateFormatter().string(from: Date().addingTimeInterval(200 * 86_400))
        let aged = try ToolsHarness.run(
            ["dhparam", "-k", "512,ffdhe2048", dir.path + "/example.com"],
            in: dir.path, now: later)
        #expect(aged.status == 0)
        #expect(aged.stdout.contains("regenerated: \(dir.path)/example.com/dh/dh512.pem"))
        #expect(aged.stdout.contains("kept: \(dir.path)/example.com/dh/dh-ffdhe2048.pem"))
    }

    @Test("bad --keys items are refused with a usable message")
    func badKeys() throws {
        let dir = try ScratchTopdir("sslm-dhparam")
        let t = try ToolsHarness.run(["dhparam", "-k", "ffdhe1024", dir.path], in: dir.path)
        #expect(t.status != 0)
        #expect(t.stderr.contains("ffdhe1024"))
    }
}
