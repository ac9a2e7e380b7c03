import Crypto
import Foundation

/// SHA-256 digests in the `sha256:<hex>` form used in plans, observations and config digests.
public enum ContentDigest {
    /// Lowercase hex SHA-256 of `data`.
    public static func sha256Hex<D: DataProtocol>(_ data: D) -> String {
        SHA256.hash(data: data).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }

    /// `sha256:<hex>`.
    public static func labelled<D: DataProtocol>(_ data: D) -> String { "sha256:" + sha256Hex(data) }
}
