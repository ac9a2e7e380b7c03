import Foundation
import SSLMCore

/// An ACME directory (RFC 8555 §7.1.1) with ARI's `renewalInfo` (RFC 9773) and the profiles extension
/// (`meta.profiles`). Every URL in it has been checked to be http(s).
public struct ACMEDirectory: Sendable, Codable, Hashable {
    public var newNonce: String
    public var newAccount: String
    public var newOrder: String
    public var revokeCert: String?
    public var keyChange: String?
    public var renewalInfo: String?
    public var termsOfService: String?
    public var externalAccountRequired: Bool
    /// Profile name → human description; empty when the server lists none.
    public var profiles: [String: String]

    public init(newNonce: String, newAccount: String, newOrder: String, revokeCert: String? = nil,
                keyChange: String? = nil, renewalInfo: String? = nil, termsOfService: String? = nil,
                externalAccountRequired: Bool = false, profiles: [String: String] = [:]) {
        self.newNonce = newNonce
        self.newAccount = newAccount
        self.newOrder = newOrder
        self.revokeCert = revokeCert
        self.keyChange = keyChange
        self.renewalInfo = renewalInfo
        self.termsOfService = termsOfService
        self.externalAccountRequired = externalAccountRequired
        self.profiles = profiles
    }

    private struct Wire: Decodable {
        struct Meta: Decodable {
            var termsOfService: String?
            var externalAccountRequired: Bool?
            var profiles: [String: String]?
        }
        var newNonce: String?
        var newAccount: String?
        var newOrder: String?
        var revokeCert: String?
        var keyChange: String?
        var renewalInfo: String?
        var meta: Meta?
    }

    /// Decodes the server's directory object, checking its URLs.
    static func decodeServer(_ body: [UInt8], url: String) throws -> ACMEDirectory {
        let wire = try ServerJSON.decode(Wire.self, body, url: url, what: "directory")
        func required(_ value: String?, _ name: String) throws -> String {
            guard let value else {
                throw ACMEError(.badResponse, "the ACME directory at \(url) has no \"\(name)\": is this an ACME server?",
                                url: url)
            }
            return try ServerURL.check(value, field: name, from: url)
        }
        func optional(_ value: String?, _ name: String) throws -> String? {
            try value.map { try ServerURL.check($0, field: name, from: url) }
        }
        return ACMEDirectory(
            newNonce: try required(wire.newNonce, "newNonce"),
            newAccount: try required(wire.newAccount, "newAccount"),
            newOrder: try required(wire.newOrder, "newOrder"),
            revokeCert: try optional(wire.revokeCert, "revokeCert"),
            keyChange: try optional(wire.keyChange, "keyChange"),
            renewalInfo: try optional(wire.renewalInfo, "renewalInfo"),
            termsOfService: wire.meta?.termsOfService,
            externalAccountRequired: wire.meta?.externalAccountRequired ?? false,
            profiles: wire.meta?.profiles ?? [:])
    }
}

/// An identifier in an order or authorization: `type` is `dns` (or `ip`), `value` the name or address.
public struct ACMEIdentifier: Sendable, Hashable, Codable, CustomStringConvertible {
    public var type: String
    public var value: String

    public init(type: String = "dns", value: String) {
        self.type = type
        self.value = value
    }

    /// A `dns` identifier.
    public static func dns(_ name: String) -> ACMEIdentifier { ACMEIdentifier(type: "dns", value: name) }

    public var description: String { "\(type):\(value)" }
}

/// An order (RFC 8555 §7.1.3) with the URL it lives at. All URLs have been checked to be http(s).
public struct ACMEOrder: Sendable, Codable, Hashable {
    public var url: String
    /// `pending`, `ready`, `processing`, `valid` or `invalid`.
    public var status: String
    public var identifiers: [ACMEIdentifier]
    public var authorizations: [String]
    public var finalize: String
    public var certificate: String?
    public var error: ACMEProblem?
    public var expires: String?
    public var profile: String?
    public var replaces: String?

    private struct Wire: Decodable {
        var status: String
        var identifiers: [ACMEIdentifier]?
        var authorizations: [String]?
        var finalize: String
        var certificate: String?
        var error: ACMEProblem?
        var expires: String?
        var profile: String?
        var replaces: String?
    }

    static func decodeServer(_ body: [UInt8], url: String, from requestURL: String) throws -> ACMEOrder {
        let wire = try ServerJSON.decode(Wire.self, body, url: requestURL, what: "order")
        return ACMEOrder(
            url: try ServerURL.check(url, field: "order Location", from: requestURL),
            status: wire.status,
            identifiers: wire.identifiers ?? [],
            authorizations: try (wire.authorizations ?? []).map {
                try ServerURL.check($0, field: "authorizations", from: requestURL)
            },
            finalize: try ServerURL.check(wire.finalize, field: "finalize", from: requestURL),
            certificate: try wire.certificate.map { try ServerURL.check($0, field: "certificate", from: requestURL) },
            error: wire.error, expires: wire.expires, profile: wire.profile, replaces: wire.replaces)
    }
}

/// A challenge (RFC 8555 §8). `token` is guaranteed base64url (`[A-Za-z0-9_-]`, 1…256 characters), so it
/// is safe as a file name; `url` is an http(s) URL.
public struct ACMEChallenge: Sendable, Codable, Hashable {
    public var type: String
    public var url: String
    public var status: String
    public var token: String
    public var error: ACMEProblem?

    fileprivate struct Wire: Decodable {
        var type: String
        var url: String
        var status: String
        var token: String?
        var error: ACMEProblem?
    }

    /// Nil when `token` is a usable challenge token; otherwise why not.
    public static func tokenProblem(_ token: String) -> String? {
        if token.isEmpty { return "is empty" }
        if token.count > 256 { return "is longer than 256 characters" }
        if !token.allSatisfy(Base64URL.isAlphabet) {
            return "\"\(String(SafeText.printable(token).prefix(80)))\" contains characters outside base64url [A-Za-z0-9_-]"
        }
        return nil
    }

    fileprivate static func decode(_ wire: Wire, from requestURL: String) throws -> ACMEChallenge {
        let token = wire.token ?? ""
        if let problem = tokenProblem(token) {
            throw ACMEError(.invalidInput,
                            "the server sent a \(wire.type) challenge whose token \(problem) (from \(requestURL)): "
                            + "refusing it; the ACME server is broken or hostile", url: requestURL)
        }
        return ACMEChallenge(type: wire.type, url: try ServerURL.check(wire.url, field: "challenge url", from: requestURL),
                             status: wire.status, token: token, error: wire.error)
    }

    static func decodeServer(_ body: [UInt8], from requestURL: String) throws -> ACMEChallenge {
        try decode(try ServerJSON.decode(Wire.self, body, url: requestURL, what: "challenge"), from: requestURL)
    }

    fileprivate struct WireList: Decodable {
        var list: [Wire]
        init(from decoder: any Decoder) throws { list = try [Wire](from: decoder) }
    }
}

/// An authorization (RFC 8555 §7.1.4) with its URL; all challenge tokens are validated.
public struct ACMEAuthorization: Sendable, Codable, Hashable {
    public var url: String
    public var identifier: ACMEIdentifier
    /// `pending`, `valid`, `invalid`, `deactivated`, `expired` or `revoked`.
    public var status: String
    public var wildcard: Bool
    public var challenges: [ACMEChallenge]
    public var expires: String?

    private struct Wire: Decodable {
        var identifier: ACMEIdentifier
        var status: String
        var wildcard: Bool?
        var challenges: ACMEChallenge.WireList?
        var expires: String?
    }

    /// The first challenge of `type` (`http-01`, `dns-01`), if offered.
    public func challenge(_ type: String) -> ACMEChallenge? { challenges.first { $0.type == type } }

    static func decodeServer(_ body: [UInt8], url: String) throws -> ACMEAuthorization {
        let wire = try ServerJSON.decode(Wire.self, body, url: url, what: "authorization")
        return ACMEAuthorization(url: url, identifier: wire.identifier, status: wire.status, wildcard: wire.wildcard ?? false,
                                 challenges: try (wire.challenges?.list ?? []).map { try ACMEChallenge.decode($0, from: url) },
                                 expires: wire.expires)
    }
}

/// ARI renewal information (RFC 9773 §4.2): the suggested window, an optional explanation and the
/// server's Retry-After in seconds.
public struct ACMERenewalInfo: Sendable, Hashable {
    public var windowStart: Date
    public var windowEnd: Date
    public var explanationURL: String?
    public var retryAfter: Int?

    public init(windowStart: Date, windowEnd: Date, explanationURL: String? = nil, retryAfter: Int? = nil) {
        self.windowStart = windowStart
        self.windowEnd = windowEnd
        self.explanationURL = explanationURL
        self.retryAfter = retryAfter
    }
}

/// Limits of one `ACMEClient`: timeouts, response sizes, polling and concurrency.
public struct ACMELimits: Sendable, Hashable {
    /// Seconds for one HTTP request (connect + response).
    public var requestTimeout: Double
    /// Largest JSON response accepted.
    public var maxResponseBytes: Int
    /// Largest error (non-2xx) response accepted.
    public var maxErrorBytes: Int
    /// Largest certificate chain accepted.
    public var maxCertificateBytes: Int
    /// Seconds a poll of an order or authorization may last.
    public var pollTimeout: Double
    /// First wait between polls when the server gives no Retry-After; doubled up to `maxPollInterval`.
    public var initialPollInterval: Double
    public var maxPollInterval: Double
    /// Requests in flight at once through this client.
    public var maxConcurrentRequests: Int
    /// How often a request rejected with `badNonce` is retried with a fresh nonce.
    public var badNonceRetries: Int

    public init(requestTimeout: Double = 30, maxResponseBytes: Int = 1 << 20, maxErrorBytes: Int = 64 << 10,
                maxCertificateBytes: Int = 256 << 10, pollTimeout: Double = 120, initialPollInterval: Double = 0.05,
                maxPollInterval: Double = 2, maxConcurrentRequests: Int = 16, badNonceRetries: Int = 8) {
        self.requestTimeout = requestTimeout
        self.maxResponseBytes = maxResponseBytes
        self.maxErrorBytes = maxErrorBytes
        self.maxCertificateBytes = maxCertificateBytes
        self.pollTimeout = pollTimeout
        self.initialPollInterval = initialPollInterval
        self.maxPollInterval = maxPollInterval
        self.maxConcurrentRequests = maxConcurrentRequests
        self.badNonceRetries = badNonceRetries
    }
}

/// JSON from the server, decoded with errors that name the URL.
enum ServerJSON {
    static func decode<T: Decodable>(_ type: T.Type, _ body: [UInt8], url: String, what: String) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(body))
        } catch let error as ACMEError {
            throw error
        } catch {
            throw ACMEError(.badResponse,
                            "the \(what) from \(url) is not valid ACME JSON (\(error)); first bytes: "
                            + SafeText.preview(body), url: url)
        }
    }
}

/// URLs the server hands out must be absolute http(s) URLs with a host.
enum ServerURL {
    static func check(_ value: String, field: String, from source: String) throws -> String {
        let lower = value.lowercased()
        guard lower.hasPrefix("https://") || lower.hasPrefix("http://"),
              let url = URL(string: value), let host = url.host, !host.isEmpty,
              !value.unicodeScalars.contains(where: { $0.value < 0x21 || $0.value == 0x7F })
        else {
            throw ACMEError(.badResponse,
                            "the server gave \(field) \"\(String(SafeText.printable(value).prefix(120)))\" (from \(source)), "
                            + "which is not an http(s) URL", url: source)
        }
        return value
    }
}

/// Text from the server made safe for messages.
enum SafeText {
    static func printable(_ s: String) -> String { SafeName.printable(s) }

    /// The first bytes of a body, printable, for error messages.
    static func preview(_ body: [UInt8], limit: Int = 120) -> String {
        let text = String(decoding: body.prefix(limit), as: UTF8.self)
        return "\"" + printable(text) + (body.count > limit ? "…" : "") + "\""
    }
}
