import Crypto
import Foundation

/// SHA-256 digests in the `sha256:<hex>` form used in plans, observations and config digests.
public enum ContentDigest {
    /// Lowercase hex SHA-256 of `data`.
    public static func sha256Hex<D: DataProtocol>(_ data: D) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for byte in SHA256.hash(data: data) {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The 32 bytes of the SHA-256 of `data`.
    public static func sha256<D: DataProtocol>(_ data: D) -> [UInt8] { Array(SHA256.hash(data: data)) }

    /// `sha256:<hex>`.
    public static func labelled<D: DataProtocol>(_ data: D) -> String { "sha256:" + sha256Hex(data) }
}
