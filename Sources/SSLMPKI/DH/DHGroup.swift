/// A Diffie-Hellman parameter set `sslm dhparam` can write: an RFC 7919 named group (fixed, published
/// primes — nothing is generated) or a numeric prime size generated with libcrypto (generator 2).
///
/// File names are ssl-mgr's: `dh-ffdhe4096.pem` for named groups, `dh4096.pem` for generated sizes.
public enum DHGroup: Sendable, Hashable, CustomStringConvertible {
    case named(RFC7919Group)
    case generated(bits: Int)

    /// RFC 7919 groups.
    public enum RFC7919Group: String, Sendable, Hashable, CaseIterable, Comparable {
        case ffdhe2048, ffdhe3072, ffdhe4096, ffdhe6144, ffdhe8192

        public var bits: Int { Int(rawValue.dropFirst(5)) ?? 0 }

        public static func < (lhs: Self, rhs: Self) -> Bool { lhs.bits < rhs.bits }
    }

    /// Smallest numeric size accepted (libcrypto's limit; use ≥ 2048 in production).
    public static let minimumGeneratedBits = 512
    public static let maximumGeneratedBits = 16384

    /// Parses one item of `--keys`: an RFC 7919 name (case-insensitive) or a number of bits.
    public init?(item: String) {
        let text = item.trimmingCharacters(in: .whitespaces).lowercased()
        if let group = RFC7919Group(rawValue: text) {
            self = .named(group)
        } else if let bits = Int(text), (Self.minimumGeneratedBits...Self.maximumGeneratedBits).contains(bits) {
            self = .generated(bits: bits)
        } else {
            return nil
        }
    }

    /// `dh-ffdhe4096.pem` or `dh4096.pem`.
    public var fileName: String {
        switch self {
        case .named(let group): "dh-\(group.rawValue).pem"
        case .generated(let bits): "dh\(bits).pem"
        }
    }

    public var description: String {
        switch self {
        case .named(let group): group.rawValue
        case .generated(let bits): String(bits)
        }
    }
}
