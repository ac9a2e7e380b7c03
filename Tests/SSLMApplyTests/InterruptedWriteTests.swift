import Foundation
import SSLMDeploy
import SSLMTestSupport
import Testing

@testable import SSLMApply

/// What a killed writer leaves in production is removed by the next write of the same name, and the
/// test-only kill switches parse as Docs/apply.md says. (The kills themselves run the real binary:
/// SSLMCLITests/CrashKillTests.)
@Suite("Interrupted production writes, fault-injection switches")
struct InterruptedWriteTests {
    /// A scratch directory (the caller removes it) with `src/privkey.pem`.
    private func scratch() throws -> String {
        let directory = try ScratchTopdir("sslm-prod", removesItself: false)
        try directory.write("src/privkey.pem", "key\n")
        return directory.path
    }

    private func names(_ directory: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
    }

    @Test("a copy removes the temporary files of an interrupted copy of the same name")
    func copyLeftovers() throws {
        let root = try scratch()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/prod", withIntermediateDirectories: true)
        try Data("old".utf8).write(to: URL(fileURLWithPath: root + "/prod/.tlsa.example.com.tmp-9f"))
        try Data("tlsa\n".utf8).write(to: URL(fileURLWithPath: root + "/src/tlsa.example.com"))
        try ProductionSync.copyFile(from: root + "/src/tlsa.example.com", to: root + "/prod/tlsa.example.com")
        #expect(try names(root + "/prod") == ["tlsa.example.com"])
    }

    @Test("removing next/ removes the hidden sets an interrupted swap or removal left beside it")
    func removalLeftovers() throws {
        let root = try scratch()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let service = root + "/prod/example.com/web"
        try ProductionSync.replaceDirectory(at: service + "/next", copying: ["privkey.pem"], from: root + "/src")
        for leftover in [".next.old-1a", ".next.new-2b"] {
            try FileManager.default.createDirectory(atPath: service + "/" + leftover, withIntermediateDirectories: true)
            try Data("old key\n".utf8).write(to: URL(fileURLWithPath: service + "/" + leftover + "/privkey.pem"))
        }
        try ProductionSync.removeDirectory(at: service + "/next")
        #expect(try names(service) == [])
    }

    @Test(
        "SSLM_FAULT_KILL_IN_WRITE values",
        arguments: [
            ("7", FaultInjection.WriteKill(index: 7, instant: .beforeRename)),
            ("7:before", FaultInjection.WriteKill(index: 7, instant: .beforeRename)),
            ("12:after", FaultInjection.WriteKill(index: 12, instant: .afterRename)),
            ("0", nil), ("-3", nil), ("x", nil), ("4:during", nil), ("4:after:1", nil), ("", nil),
        ])
    func writeKillValues(text: String, expected: FaultInjection.WriteKill?) {
        #expect(FaultInjection.parseWriteKill(text) == expected)
    }
}
