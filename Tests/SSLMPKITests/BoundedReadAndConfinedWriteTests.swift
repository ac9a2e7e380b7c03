import Foundation
import SSLMCore
import SSLMPKI
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `BoundedFile` (every whole-file read) and `AtomicFile` with a root (no symlink below it is followed).
@Suite("Bounded reads and confined writes")
struct BoundedReadAndConfinedWriteTests {
    private static let fm = FileManager.default

    private func scratch() throws -> String {
        let directory = Self.fm.temporaryDirectory.appendingPathComponent("sslm-bounded-\(UUID().uuidString)").path
        try Self.fm.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return directory
    }

    @Test("a 4 GiB sparse file is refused from its size, naming the file and the limit")
    func sparseFile() throws {
        let directory = try scratch()
        defer { try? Self.fm.removeItem(atPath: directory) }
        let path = directory + "/cert.pem"
        #expect(Self.fm.createFile(atPath: path, contents: nil))
        #expect(truncate(path, 4 << 30) == 0)
        let error = try #require(throws: SSLMError.self) { try FileBytes.read(path) }
        #expect(error.code == .fileTooLarge)
        #expect(error.message == "\(path) is 4 GiB, more than the 1 MiB a PEM file may have; replace or remove it")
    }

    @Test("limits: exactly the limit is read, one byte more is refused")
    func limitEdge() throws {
        let directory = try scratch()
        defer { try? Self.fm.removeItem(atPath: directory) }
        let limit = BoundedFile.Limit(bytes: 10, kind: "a test file")
        try Data(repeating: 65, count: 10).write(to: URL(fileURLWithPath: directory + "/ten"))
        try Data(repeating: 65, count: 11).write(to: URL(fileURLWithPath: directory + "/eleven"))
        #expect(try BoundedFile.read(directory + "/ten", limit: limit).count == 10)
        #expect(throws: SSLMError(.fileTooLarge, "")) { try BoundedFile.read(directory + "/eleven", limit: limit) }
        #expect(BoundedFile.describe(bytes: 4_500_000_000) == "4.5 GB")
        #expect(BoundedFile.describe(bytes: 1 << 20) == "1 MiB")
    }

    @Test("a FIFO, a directory, a missing file and (without followLinks) a symlink are errors, not hangs")
    func notRegular() throws {
        let directory = try scratch()
        defer { try? Self.fm.removeItem(atPath: directory) }
        #expect(mkfifo(directory + "/fifo", 0o600) == 0)
        try Data("x".utf8).write(to: URL(fileURLWithPath: directory + "/file"))
        try Self.fm.createSymbolicLink(atPath: directory + "/link", withDestinationPath: directory + "/file")
        #expect(throws: SSLMError(.fileUnreadable, "")) { try BoundedFile.read(directory + "/fifo", limit: .pem) }
        #expect(throws: SSLMError(.fileUnreadable, "")) { try BoundedFile.read(directory, limit: .pem) }
        #expect(throws: SSLMError(.fileUnreadable, "")) { try BoundedFile.read(directory + "/none", limit: .pem) }
        #expect(throws: SSLMError(.symbolicLink, "")) {
            try BoundedFile.read(directory + "/link", limit: .pem, followLinks: false)
        }
        #expect(try BoundedFile.read(directory + "/link", limit: .pem) == [UInt8(ascii: "x")])
    }

    @Test("lines are streamed across chunk boundaries; an overlong line is cut and flagged")
    func streamedLines() throws {
        let directory = try scratch()
        defer { try? Self.fm.removeItem(atPath: directory) }
        let long = String(repeating: "y", count: 3 << 20)
        let lines = (0..<50_000).map { "line \($0)" } + [long, "after"]
        try Data((lines.joined(separator: "\n")).utf8).write(to: URL(fileURLWithPath: directory + "/j"))
        var seen: [String] = []
        var truncatedCount = 0
        let found = try BoundedFile.lines(directory + "/j", maximumLineBytes: 1024) { line, truncated in
            if truncated {
                truncatedCount += 1
                #expect(line.count == 1024)
            } else {
                seen.append(String(decoding: line, as: UTF8.self))
            }
        }
        #expect(found)
        #expect(truncatedCount == 1)
        #expect(seen == Array(lines.prefix(50_000)) + ["after"])
        #expect(try BoundedFile.lines(directory + "/missing") { _, _ in } == false)
    }

    @Test("a write below a root refuses a symlinked directory and a symlinked file; the targets stay")
    func confinedWrite() throws {
        let directory = try scratch()
        defer { try? Self.fm.removeItem(atPath: directory) }
        let root = directory + "/top"
        let elsewhere = directory + "/elsewhere"
        try Self.fm.createDirectory(atPath: root + "/certs", withIntermediateDirectories: true)
        try Self.fm.createDirectory(atPath: elsewhere, withIntermediateDirectories: true)
        try Data("precious\n".utf8).write(to: URL(fileURLWithPath: elsewhere + "/passwd"))
        try Self.fm.createSymbolicLink(atPath: root + "/certs/grp", withDestinationPath: elsewhere)
        try Self.fm.createSymbolicLink(atPath: root + "/certs/file.pem", withDestinationPath: elsewhere + "/passwd")

        let error = try #require(throws: SSLMError.self) {
            try AtomicFile.write(text: "new\n", to: root + "/certs/grp/passwd", root: root)
        }
        #expect(
            error.message == "refusing to write \(root)/certs/grp: it is a symbolic link (to \(elsewhere)); remove it")
        #expect(throws: SSLMError(.symbolicLink, "")) {
            try AtomicFile.write(text: "new\n", to: root + "/certs/file.pem", root: root)
        }
        #expect(throws: SSLMError(.symbolicLink, "")) {
            try AtomicFile.write(text: "new\n", to: root + "/certs/file.pem")
        }
        #expect(throws: SSLMError(.symbolicLink, "")) {
            try AtomicFile.symlink(target: "db/1", at: root + "/certs/grp/curr", root: root)
        }
        #expect(try String(contentsOfFile: elsewhere + "/passwd", encoding: .utf8) == "precious\n")
        #expect(try Self.fm.contentsOfDirectory(atPath: elsewhere) == ["passwd"])

        // The root itself may be a link.
        try Self.fm.createSymbolicLink(atPath: directory + "/top-link", withDestinationPath: root)
        try AtomicFile.write(text: "ok\n", to: directory + "/top-link/certs/real.pem", root: directory + "/top-link")
        #expect(try String(contentsOfFile: root + "/certs/real.pem", encoding: .utf8) == "ok\n")
    }

    @Test("ConfinedDirectory creates missing components with the exact mode, and refuses paths outside the root")
    func confinedCreate() throws {
        let directory = try scratch()
        defer { try? Self.fm.removeItem(atPath: directory) }
        let made = try ConfinedDirectory.open(directory + "/a/b/c", below: directory, createMode: 0o750)
        #expect(made.path == directory + "/a/b/c")
        let mode = (try Self.fm.attributesOfItem(atPath: directory + "/a/b")[.posixPermissions] as? Int) ?? 0
        #expect(mode == 0o750)
        #expect(throws: SSLMError(.invalidArgument, "")) {
            try ConfinedDirectory.open("/etc", below: directory)
        }
        #expect(throws: SSLMError(.invalidArgument, "")) {
            try ConfinedDirectory.open(directory + "/a/../../etc", below: directory)
        }
    }
}
