/// A compact binary encoding (the observation cache, the observation's fingerprint): unsigned LEB128 integers, length-prefixed UTF-8
/// strings and byte strings, maps as sorted key/value pairs. Decoding never traps: a truncated or
/// malformed input is `ByteReader.Malformed`.
public struct ByteWriter {
    public init() {}

    public private(set) var bytes: [UInt8] = []

    public mutating func unsigned(_ value: UInt64) {
        var rest = value
        while rest >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }

    public mutating func signed(_ value: Int64) { unsigned(UInt64(bitPattern: (value << 1) ^ (value >> 63))) }

    public mutating func bool(_ value: Bool) { bytes.append(value ? 1 : 0) }

    public mutating func double(_ value: Double) { unsigned(value.bitPattern) }

    public mutating func raw(_ value: [UInt8]) {
        unsigned(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    public mutating func string(_ value: String) {
        var copy = value
        copy.withUTF8 { buffer in
            unsigned(UInt64(buffer.count))
            bytes.append(contentsOf: buffer)
        }
    }

    public mutating func strings(_ values: [String]) {
        unsigned(UInt64(values.count))
        for value in values { string(value) }
    }

    public mutating func map(_ values: [String: String]) {
        unsigned(UInt64(values.count))
        for key in values.keys.sorted() {
            string(key)
            string(values[key] ?? "")
        }
    }

    /// A presence byte, then the value.
    public mutating func optional<T>(_ value: T?, _ write: (inout ByteWriter, T) -> Void) {
        bool(value != nil)
        if let value { write(&self, value) }
    }
}

public struct ByteReader {
    public struct Malformed: Error {
        public init() {}
    }

    private let bytes: [UInt8]
    public private(set) var offset: Int

    public init(_ bytes: [UInt8], offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    public var isAtEnd: Bool { offset == bytes.count }

    public mutating func unsigned() throws -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while offset < bytes.count, shift < 64 {
            let byte = bytes[offset]
            offset += 1
            value |= UInt64(byte & 0x7f) << shift
            if byte < 0x80 { return value }
            shift += 7
        }
        throw Malformed()
    }

    public mutating func signed() throws -> Int64 {
        let value = try unsigned()
        return Int64(bitPattern: (value >> 1) ^ (0 &- (value & 1)))
    }

    public mutating func count() throws -> Int {
        let value = try unsigned()
        guard value <= UInt64(bytes.count - offset) else { throw Malformed() }
        return Int(value)
    }

    /// Passes over `length` bytes (a nested encoding read later).
    public mutating func skip(_ length: Int) throws {
        guard length >= 0, length <= bytes.count - offset else { throw Malformed() }
        offset += length
    }

    public mutating func bool() throws -> Bool {
        guard offset < bytes.count, bytes[offset] <= 1 else { throw Malformed() }
        offset += 1
        return bytes[offset - 1] == 1
    }

    public mutating func double() throws -> Double { Double(bitPattern: try unsigned()) }

    public mutating func raw() throws -> [UInt8] {
        let length = try count()
        defer { offset += length }
        return Array(bytes[offset..<offset + length])
    }

    public mutating func string() throws -> String {
        let length = try count()
        defer { offset += length }
        return String(decoding: bytes[offset..<offset + length], as: UTF8.self)
    }

    public mutating func strings() throws -> [String] {
        let length = try count()
        var values: [String] = []
        values.reserveCapacity(length)
        for _ in 0..<length { values.append(try string()) }
        return values
    }

    public mutating func map() throws -> [String: String] {
        let length = try count()
        var values: [String: String] = [:]
        values.reserveCapacity(length)
        for _ in 0..<length {
            let key = try string()
            values[key] = try string()
        }
        return values
    }

    public mutating func optional<T>(_ read: (inout ByteReader) throws -> T) throws -> T? {
        try bool() ? try read(&self) : nil
    }
}
