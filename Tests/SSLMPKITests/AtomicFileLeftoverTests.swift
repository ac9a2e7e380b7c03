import Foundation
import SSLMPKI
import SSLMTestSupport
import Testing

/// A writer killed between creating its temporary file and renaming it leaves `.<name>.tmp-<hex>` (or
/// `<link>.tmp-<hex>`) behind; the next write of the same name removes it, and nothing else.
@Suite("AtomicFile removes the temporary files of interrupted writes")
struct AtomicFileLeftoverTests {
    /// A scratch directory; the caller removes it.
    private func scratch() throws -> String {
        try ScratchTopdir("sslm-atomic", removesItself: false).path
    }

    private func names(_ directory: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
    }

    @Test("a file write removes leftovers of its own name only")
    func fileLeftovers() throws {
        let directory = try scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for name in [".cert.pem.tmp-1a2b3c4d", ".cert.pem.tmp-0", ".cert.pem.tmp-notahex", ".chain.pem.tmp-1a2b"] {
            try Data("partial".utf8).write(to: URL(fileURLWithPath: directory + "/" + name))
        }
        try AtomicFile.write(text: "new\n", to: directory + "/cert.pem")
        #expect(try names(directory) == [".cert.pem.tmp-notahex", ".chain.pem.tmp-1a2b", "cert.pem"])
        #expect(try String(contentsOfFile: directory + "/cert.pem", encoding: .utf8) == "new\n")
    }

    @Test("a link switch removes leftover temporary links of its own name")
    func linkLeftovers() throws {
        let directory = try scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createDirectory(atPath: directory + "/db/1", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: directory + "/curr.tmp-ab12", withDestinationPath: "db/1")
        try FileManager.default.createSymbolicLink(atPath: directory + "/next.tmp-ab12", withDestinationPath: "db/1")
        try AtomicFile.symlink(target: "db/1", at: directory + "/curr")
        #expect(try names(directory) == ["curr", "db", "next.tmp-ab12"])
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: directory + "/curr") == "db/1")
    }
}
