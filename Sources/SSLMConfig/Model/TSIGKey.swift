/// A TSIG algorithm sslm signs DNS UPDATE messages with (RFC 8945). Only those libldns 1.8 computes:
/// HMAC-SHA256 (recommended), HMAC-SHA512 and HMAC-SHA1. (libldns 1.8 names hmac-sha224 and hmac-sha384
/// but cannot compute them, so sslm refuses them in `config check` rather than failing at the first update.)
public enum TSIGAlgorithm: String, Sendable, Hashable, CaseIterable, Codable {
    case hmacSHA256 = "hmac-sha256"
    case hmacSHA512 = "hmac-sha512"
    case hmacSHA1 = "hmac-sha1"

    /// The algorithm's domain name as it goes on the wire (`hmac-sha256.`).
    public var domainName: String { rawValue + "." }
}

/// The TSIG secret: base64 text as `tsig-keygen` writes it. Its description is redacted, so a key (or a
/// config holding one) printed, logged, interpolated or dumped never shows it; only the DNS module reads
/// `base64` to sign. Equality compares the secret (two configs with different secrets differ).
public struct TSIGSecret: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    /// The secret as base64 text, validated (decodes to at least one byte). Never print it.
    public let base64: String

    public init(base64: String) { self.base64 = base64 }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}

/// A TSIG key read from a BIND key file (`key "name" { algorithm hmac-sha256; secret "…"; };`).
///
/// Its description names the key, its algorithm and the file — never the secret (`TSIGSecret`). Not
/// `Codable`: a key is never written to a plan or a state file; show `name` and `algorithm` instead.
public struct TSIGKey: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The key name as written in the file, lowercased, without a trailing dot (`sslm-example.com`).
    public var name: String
    public var algorithm: TSIGAlgorithm
    public var secret: TSIGSecret
    /// The absolute path of the key file it came from ("" when built in code).
    public var file: String

    public init(name: String, algorithm: TSIGAlgorithm, secret: TSIGSecret, file: String = "") {
        self.name = name
        self.algorithm = algorithm
        self.secret = secret
        self.file = file
    }

    /// `key "name" (hmac-sha256, from /etc/ssl-mgr/tsig/example.com.key)`.
    public var description: String {
        "key \"\(name)\" (\(algorithm.rawValue)" + (file.isEmpty ? ")" : ", from \(file))")
    }

    public var debugDescription: String { description }
}

/// How sslm changes the data of a zone (`[[dns_primary]] update`).
public enum DNSUpdateMethod: Sendable, Hashable, CustomStringConvertible {
    /// `include` (the default, ssl-mgr's way): include files in `[dns] acme_dir` / `tlsa_dirs` and
    /// `[dns] restart_cmd`.
    case include
    /// `rfc2136`: DNS UPDATE messages to the primary, signed with this TSIG key.
    case rfc2136(TSIGKey)
    /// `exec`: this program (argv, no shell; argv[0] absolute and executable) with a JSON document on stdin.
    case exec([String])

    /// The value of `update` in the config: `include`, `rfc2136` or `exec`.
    public var name: String {
        switch self {
        case .include: "include"
        case .rfc2136: "rfc2136"
        case .exec: "exec"
        }
    }

    /// `include`, `rfc2136 with key "name" (hmac-sha256, from FILE)`, `exec /path/to/hook`: never a secret.
    public var description: String {
        switch self {
        case .include: "include"
        case .rfc2136(let key): "rfc2136 with \(key)"
        case .exec(let argv): "exec " + argv.joined(separator: " ")
        }
    }
}
