import Foundation
import SSLMCore
import Testing

/// `CacheFile`, the framing of the advisory caches in `.sslm/`: used whole or not at all.
@Suite("Cache file framing")
struct CacheFileTests {
    static let format = CacheFile.Format(
        magic: "sslm-test-cache\n", version: 2, limit: BoundedFile.Limit(bytes: 1 << 16, kind: "a test cache"))

    static func body() -> [UInt8] {
        var writer = ByteWriter()
        writer.string("entry")
        writer.unsigned(42)
        return writer.bytes
    }

    @Test("a file reads back to its body, after magic, version and context, without its digest")
    func roundTrip() throws {
        var file = CacheFile.encode(Self.body(), format: Self.format, context: "ctx")
        #expect(file.starts(with: Array("sslm-test-cache\n".utf8)))
        let body = try CacheFile.open(&file, format: Self.format, context: "ctx")
        #expect(Array(file[body...]) == Self.body())
        var reader = ByteReader(file, offset: body)
        #expect(try reader.string() == "entry")
        #expect(try reader.unsigned() == 42)
        #expect(reader.isAtEnd)
    }

    /// Every single flipped bit anywhere in the file, digest included, refuses the whole file.
    @Test("any flipped bit, a truncation, an extra byte, another version or context: refused")
    func damaged() {
        let good = CacheFile.encode(Self.body(), format: Self.format, context: "ctx")
        var refused = 0
        for index in good.indices {
            for bit in 0..<8 {
                var file = good
                file[index] ^= UInt8(1 << bit)
                if (try? CacheFile.open(&file, format: Self.format, context: "ctx")) == nil { refused += 1 }
            }
        }
        #expect(refused == good.count * 8)
        var other: [[UInt8]] = [Array(good.dropLast()), good + [0], Array(good.dropFirst()), []]
        other.append(CacheFile.encode(Self.body(), format: Self.format, context: "other"))
        var newer = Self.format
        newer.version += 1
        other.append(CacheFile.encode(Self.body(), format: newer, context: "ctx"))
        for var file in other {
            #expect((try? CacheFile.open(&file, format: Self.format, context: "ctx")) == nil)
        }
    }

    @Test("read: a missing, oversized or linked file is no cache")
    func read() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sslm-cache-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/cache"
        #expect(CacheFile.read(path, format: Self.format, context: "ctx") == nil)
        try Data(CacheFile.encode(Self.body(), format: Self.format, context: "ctx")).write(
            to: URL(fileURLWithPath: path))
        let file = try #require(CacheFile.read(path, format: Self.format, context: "ctx"))
        #expect(Array(file.bytes[file.body...]) == Self.body())
        try FileManager.default.createSymbolicLink(atPath: directory + "/link", withDestinationPath: path)
        #expect(CacheFile.read(directory + "/link", format: Self.format, context: "ctx") == nil)
        let large = CacheFile.encode([UInt8](repeating: 7, count: 1 << 16), format: Self.format, context: "ctx")
        try Data(large).write(to: URL(fileURLWithPath: path))
        #expect(CacheFile.read(path, format: Self.format, context: "ctx") == nil)
    }
}
