/// An elliptic curve sslm can generate keys on.
public enum ECCurve: String, Sendable, Hashable, Codable, CaseIterable {
    case secp256r1
    case secp384r1
    case secp521r1

    /// Accepts the names ssl-mgr users write, case-insensitively: `secp256r1` or its alias `prime256v1`,
    /// `secp384r1`, `secp521r1`. Nil for anything else.
    public init?(configName: String) {
        switch configName.lowercased() {
        case "secp256r1", "prime256v1", "p-256", "p256": self = .secp256r1
        case "secp384r1", "p-384", "p384": self = .secp384r1
        case "secp521r1", "p-521", "p521": self = .secp521r1
        default: return nil
        }
    }

    /// Bits of the curve's order, as shown in `pubkey-…` labels and status output.
    public var bits: Int {
        switch self {
        case .secp256r1: 256
        case .secp384r1: 384
        case .secp521r1: 521
        }
    }
}

/// What kind of private key a service uses (`[KeyOpts]`): EC on a named curve, RSA with a modulus
/// size in bits, or Ed25519 (local CAs only). A value, validated by the config loader.
public enum KeySpec: Sendable, Hashable, Codable, CustomStringConvertible {
    case ec(ECCurve)
    case rsa(bits: Int)
    case ed25519

    /// ssl-mgr's default: EC on secp384r1.
    public static let `default` = KeySpec.ec(.secp384r1)
    /// RSA bounds: below 2048 is insecure, above 8192 impractically slow.
    public static let rsaBitsRange = 2048...8192
    public static let defaultRSABits = 4096

    /// The label ssl-mgr prints for a public key: `pubkey-secp384r1`, `pubkey-rsa-4096`, `pubkey-ed25519`.
    public var description: String {
        switch self {
        case .ec(let curve): curve.rawValue
        case .rsa(let bits): "rsa-\(bits)"
        case .ed25519: "ed25519"
        }
    }
}

/// A signature hash for local signing (`[CA] digest`). SHA-3 names are accepted by ssl-mgr's config;
/// sslm parses them but signs with SHA-2 (swift-certificates has no SHA-3 signatures) — the loader warns.
public enum DigestAlgorithm: String, Sendable, Hashable, Codable, CaseIterable {
    case sha256
    case sha384
    case sha512

    /// ssl-mgr's default when `digest` is empty.
    public static let `default` = DigestAlgorithm.sha384
}

extension KeySpec {
    /// The key type as a plan writes it: `ec secp384r1`, `rsa 4096`, `ed25519`.
    public var planText: String {
        switch self {
        case .ec(let curve): "ec \(curve.rawValue)"
        case .rsa(let bits): "rsa \(bits)"
        case .ed25519: "ed25519"
        }
    }

    /// Reads a key type written by `planText`, or by `description` (`secp384r1`, `rsa-4096`), which
    /// `reuse_key` actions of saved plans carry. Nil for anything else.
    public init?(planText text: String) {
        let words = text.split(whereSeparator: { $0 == " " || $0 == "-" }).map(String.init)
        if words == ["ed25519"] {
            self = .ed25519
        } else if words.count == 1, let curve = ECCurve(rawValue: words[0]) {
            self = .ec(curve)
        } else if words.count == 2, words[0] == "ec", let curve = ECCurve(rawValue: words[1]) {
            self = .ec(curve)
        } else if words.count == 2, words[0] == "rsa", let bits = Int(words[1]), bits > 0 {
            self = .rsa(bits: bits)
        } else {
            return nil
        }
    }
}
