import Crypto
import Foundation
import Logging
import NIOHTTP1
import SSLMCore
import SwiftASN1
import X509

/// An RFC 8555 ACME client for one directory and one account, with ARI (RFC 9773), ACME profiles and
/// External Account Binding.
///
/// Many orders may run through one client at once: each call takes its own nonce from a shared pool,
/// and polls sleep outside the actor's isolation so other calls interleave. At most
/// `ACMELimits.maxConcurrentRequests` HTTP requests are in flight. Everything the server sends is
/// checked (sizes, URLs, challenge tokens) before it is returned. Never logs keys, JWS bodies or EAB
/// secrets. Call `shutdown()` when done (dropping the client also releases its connections).
public actor ACMEClient {
    public nonisolated let directoryURL: String
    public nonisolated let limits: ACMELimits
    private let transport: ACMETransport
    private let logger: Logger
    private var directoryFetch: Task<ACMEDirectory, any Error>?
    private var nonces: [String] = []
    private var accountKey: ACMEAccountKey?
    private var accountURL: String?
    private var inFlight = 0
    private var waiters: [CheckedContinuation<Void, Never>] = []
    /// How many requests were re-sent after `badNonce` (for tests and metrics).
    public private(set) var badNonceRetryCount = 0

    public init(directoryURL: String, trustFile: String?, logger: Logger, limits: ACMELimits = .init()) throws {
        self.directoryURL = try ServerURL.check(directoryURL, field: "directory URL", from: "the configuration")
        self.limits = limits
        self.logger = logger
        self.transport = try ACMETransport(trustFile: trustFile, limits: limits)
    }

    /// Closes the client's connections.
    public func shutdown() async { await transport.shutdown() }

    // MARK: Directory and account

    /// The directory, fetched once and cached.
    public func directory() async throws -> ACMEDirectory {
        // One fetch shared by concurrent first callers; a failed fetch is not cached.
        if let directoryFetch { return try await directoryFetch.value }
        let fetch = Task { try await self.fetchDirectory() }
        directoryFetch = fetch
        do {
            return try await fetch.value
        } catch {
            directoryFetch = nil
            throw error
        }
    }

    private func fetchDirectory() async throws -> ACMEDirectory {
        let response = try await send(.GET, directoryURL, maxBytes: limits.maxResponseBytes)
        guard (200..<300).contains(response.status) else { throw response.error() }
        return try ACMEDirectory.decodeServer(response.body, url: directoryURL)
    }

    /// Registers (or finds) the account of `key` and makes it the account of this client; returns its URL.
    ///
    /// Sends `termsOfServiceAgreed: true`. `contact` entries without a scheme get `mailto:`. `eab` is
    /// required when the directory says `externalAccountRequired`.
    public func account(key: ACMEAccountKey, contact: [String], eab: ACMEExternalAccountBinding?) async throws
        -> String
    {
        let directory = try await directory()
        if directory.externalAccountRequired && eab == nil {
            throw ACMEError(
                .invalidInput,
                "the ACME server \(directoryURL) requires an external account binding "
                    + "(meta.externalAccountRequired): configure the EAB key id and HMAC key the CA gave you",
                url: directory.newAccount)
        }
        var payload: [String: Any] = [
            "termsOfServiceAgreed": true,
            "contact": contact.map { $0.contains(":") ? $0 : "mailto:\($0)" },
        ]
        if let eab {
            let binding = try JWS.externalAccountBinding(eab, accountKey: key, url: directory.newAccount)
            payload["externalAccountBinding"] = try JSONSerialization.jsonObject(with: Data(binding.utf8))
        }
        let response = try await signedPost(
            directory.newAccount, payload: try Self.json(payload), key: key,
            signer: .jwk, maxBytes: limits.maxResponseBytes)
        guard let location = response.location else {
            throw ACMEError(
                .badResponse, "newAccount at \(directory.newAccount) answered without a Location header",
                url: directory.newAccount, status: response.status)
        }
        let url = try ServerURL.check(location, field: "account Location", from: directory.newAccount)
        accountKey = key
        accountURL = url
        logger.info(
            "acme account ready",
            metadata: [
                "acme.url": "\(url)", "acme.created": "\(response.status == 201)",
            ])
        return url
    }

    /// The URL of the account this client signs with, once `account` has run.
    public func currentAccountURL() -> String? { accountURL }

    /// Whether `error` is the CA refusing an order's `replaces`: Boulder answers `alreadyReplaced`, or
    /// `malformed` naming the certificate being replaced (another account ordered it, or the CA does not
    /// know it). Such an order succeeds without `replaces`.
    public static func refusesReplaces(_ error: any Error) -> Bool {
        guard let error = error as? ACMEError else { return false }
        if error.acmeErrorName == "alreadyReplaced" { return true }
        let detail = (error.detail ?? "").lowercased()
        return error.acmeErrorName == "malformed" && (detail.contains("replace") || detail.contains("renewalinfo"))
    }

    // MARK: Orders and authorizations

    /// Creates an order. `profile` is sent only when the directory lists profiles (and must be one of
    /// them); `replaces` (an ARI certificate id) only when the directory has `renewalInfo`.
    public func newOrder(_ identifiers: [ACMEIdentifier], profile: String?, replaces: String?) async throws
        -> ACMEOrder
    {
        let directory = try await directory()
        guard !identifiers.isEmpty else { throw ACMEError(.invalidInput, "an order needs at least one identifier") }
        var payload: [String: Any] = [
            "identifiers": identifiers.map { ["type": $0.type, "value": $0.value] }
        ]
        if let profile, !directory.profiles.isEmpty {
            guard directory.profiles[profile] != nil else {
                throw ACMEError(
                    .invalidInput,
                    "the ACME server \(directoryURL) has no profile \"\(profile)\"; it lists: "
                        + directory.profiles.keys.sorted().joined(separator: ", "), url: directory.newOrder)
            }
            payload["profile"] = profile
        }
        if let replaces, directory.renewalInfo != nil { payload["replaces"] = replaces }
        let response = try await signedPost(
            directory.newOrder, payload: try Self.json(payload),
            maxBytes: limits.maxResponseBytes)
        guard let location = response.location else {
            throw ACMEError(
                .badResponse, "newOrder at \(directory.newOrder) answered without a Location header",
                url: directory.newOrder, status: response.status)
        }
        let order = try ACMEOrder.decodeServer(response.body, url: location, from: directory.newOrder)
        logger.debug(
            "acme order created",
            metadata: [
                "acme.url": "\(order.url)", "acme.status": "\(order.status)",
                "acme.identifiers": "\(identifiers.count)",
            ])
        return order
    }

    /// The current state of an order (POST-as-GET).
    public func order(url: String) async throws -> ACMEOrder {
        try await fetchOrder(url: url).order
    }

    /// The current state of an authorization (POST-as-GET); every challenge token is validated.
    public func authorization(url: String) async throws -> ACMEAuthorization {
        try await fetchAuthorization(url: url).authorization
    }

    /// Tells the server a challenge is ready (POST `{}`).
    public func respond(to challenge: ACMEChallenge) async throws -> ACMEChallenge {
        let url = try ServerURL.check(challenge.url, field: "challenge url", from: "the caller")
        let response = try await signedPost(url, payload: Array("{}".utf8), maxBytes: limits.maxResponseBytes)
        return try ACMEChallenge.decodeServer(response.body, from: url)
    }

    /// Polls an authorization until it is `valid`. A failed authorization throws `.problem` with the
    /// challenge's error; running out of `pollTimeout` throws `.timeout`.
    public func pollAuthorization(url: String) async throws -> ACMEAuthorization {
        let deadline = ContinuousClock.now + .milliseconds(Int64(limits.pollTimeout * 1000))
        var interval = limits.initialPollInterval
        while true {
            let (authorization, retryAfter) = try await fetchAuthorization(url: url)
            switch authorization.status {
            case "valid":
                return authorization
            case "pending":
                break
            default:
                let failed = authorization.challenges.first { $0.error != nil }
                let problem =
                    failed?.error
                    ?? ACMEProblem(
                        type: "urn:ietf:params:acme:error:unauthorized",
                        detail: "authorization for \(authorization.identifier) is \(authorization.status)")
                var error = ACMEError(problem: problem, method: "POST", url: url, status: nil)
                error.message =
                    "authorization for \(authorization.identifier) is \(authorization.status)"
                    + (failed.map { " (\($0.type) challenge)" } ?? "") + ": " + error.message
                throw error
            }
            try await pause(
                retryAfter: retryAfter, interval: &interval, deadline: deadline, url: url,
                status: authorization.status)
        }
    }

    /// Finalizes an order with our own CSR (DER).
    public func finalize(_ order: ACMEOrder, csrDER: [UInt8]) async throws -> ACMEOrder {
        let url = try ServerURL.check(order.finalize, field: "finalize", from: "the caller")
        let payload = try Self.json(["csr": Base64URL.encode(csrDER)])
        let response = try await signedPost(url, payload: payload, maxBytes: limits.maxResponseBytes)
        return try ACMEOrder.decodeServer(response.body, url: order.url, from: url)
    }

    /// Polls an order until its status is in `until`. Honours Retry-After; otherwise waits
    /// `initialPollInterval`, doubling up to `maxPollInterval`. `invalid` throws `.problem`; running out
    /// of `pollTimeout` throws `.timeout` naming the URL and the last status.
    public func pollOrder(url: String, until: Set<String>) async throws -> ACMEOrder {
        let deadline = ContinuousClock.now + .milliseconds(Int64(limits.pollTimeout * 1000))
        var interval = limits.initialPollInterval
        while true {
            let (order, retryAfter) = try await fetchOrder(url: url)
            if until.contains(order.status) { return order }
            if order.status == "invalid" {
                let problem =
                    order.error
                    ?? ACMEProblem(
                        type: "urn:ietf:params:acme:error:serverInternal",
                        detail: "the order became invalid without an error")
                var error = ACMEError(problem: problem, method: "POST", url: url, status: nil)
                error.message = "order is invalid: " + error.message
                throw error
            }
            try await pause(
                retryAfter: retryAfter, interval: &interval, deadline: deadline, url: url,
                status: order.status)
        }
    }

    // MARK: Certificates

    /// Downloads the certificate chain. When `preferredChain` (the CN of the chain's top issuer) is given
    /// and the default chain does not match, the `Link: rel="alternate"` chains are tried in order; the
    /// default is returned when none matches.
    public func downloadCertificate(url: String, preferredChain: String?) async throws -> ACMECertificateChain {
        let response = try await signedPost(
            url, payload: nil, accept: "application/pem-certificate-chain",
            maxBytes: limits.maxCertificateBytes)
        let alternates = try response.links(rel: "alternate").map {
            try ServerURL.check($0, field: "alternate chain link", from: url)
        }
        let chain = try ACMECertificateChain(pem: response.body, url: url, alternateCount: alternates.count)
        guard let preferredChain, !chain.matches(preferredChain) else { return chain }
        for alternate in alternates {
            let other = try await signedPost(
                alternate, payload: nil, accept: "application/pem-certificate-chain",
                maxBytes: limits.maxCertificateBytes)
            let candidate = try ACMECertificateChain(pem: other.body, url: alternate, alternateCount: alternates.count)
            if candidate.matches(preferredChain) {
                logger.debug("acme preferred chain found", metadata: ["acme.url": "\(alternate)"])
                return candidate
            }
        }
        logger.notice(
            "acme preferred chain not offered; using the default chain",
            metadata: [
                "acme.url": "\(url)", "acme.preferred_chain": "\(preferredChain)",
                "acme.default_chain": "\(chain.rootIssuerCommonName ?? "?")",
            ])
        return chain
    }

    /// Revokes a certificate, signed with the account key (`account(...)` must have run).
    public func revoke(certificateDER: [UInt8], reason: Int?) async throws {
        let directory = try await directory()
        guard let revokeURL = directory.revokeCert else {
            throw ACMEError(.unsupported, "the ACME server \(directoryURL) offers no revokeCert")
        }
        var payload: [String: Any] = ["certificate": Base64URL.encode(certificateDER)]
        if let reason { payload["reason"] = reason }
        _ = try await signedPost(revokeURL, payload: try Self.json(payload), maxBytes: limits.maxErrorBytes)
        logger.info("acme certificate revoked", metadata: ["acme.url": "\(revokeURL)"])
    }

    /// ARI renewal information for `certificate`; nil when the directory has no `renewalInfo`.
    public func renewalInfo(for certificate: X509.Certificate) async throws -> ACMERenewalInfo? {
        guard let base = try await directory().renewalInfo else { return nil }
        let url = (base.hasSuffix("/") ? base : base + "/") + (try Self.ariCertID(certificate))
        let response = try await send(.GET, url, maxBytes: limits.maxResponseBytes)
        struct Wire: Decodable {
            struct Window: Decodable {
                var start: String
                var end: String
            }
            var suggestedWindow: Window
            var explanationURL: String?
        }
        let wire = try ServerJSON.decode(Wire.self, response.body, url: url, what: "renewalInfo")
        guard let start = Self.parseDate(wire.suggestedWindow.start),
            let end = Self.parseDate(wire.suggestedWindow.end),
            start <= end
        else {
            throw ACMEError(
                .badResponse,
                "the renewalInfo from \(url) has an unusable suggestedWindow "
                    + "(\(SafeText.printable(wire.suggestedWindow.start)) … "
                    + "\(SafeText.printable(wire.suggestedWindow.end)))", url: url)
        }
        return ACMERenewalInfo(
            windowStart: start, windowEnd: end,
            explanationURL: try wire.explanationURL.map {
                try ServerURL.check($0, field: "explanationURL", from: url)
            },
            retryAfter: response.retryAfter.map { Int($0.rounded(.up)) })
    }

    /// The ARI certificate identifier (RFC 9773 §4.1): base64url(AKI keyIdentifier) "." base64url(serial).
    public static func ariCertID(_ certificate: X509.Certificate) throws -> String {
        guard let aki = try certificate.extensions.authorityKeyIdentifier, let keyID = aki.keyIdentifier else {
            throw ACMEError(
                .invalidInput,
                "the certificate has no Authority Key Identifier with a keyIdentifier; ARI needs one")
        }
        // The serial's DER INTEGER content octets: minimal, with a 0x00 first when the high bit is set.
        var serial = Array(certificate.serialNumber.bytes.drop { $0 == 0 })
        if serial.isEmpty || serial[0] & 0x80 != 0 { serial.insert(0, at: 0) }
        return Base64URL.encode(keyID) + "." + Base64URL.encode(serial)
    }

    // MARK: Challenge values

    /// The key authorization of `token` (RFC 8555 §8.1): `token.thumbprint` of the account key.
    public func keyAuthorization(token: String) throws -> String {
        if let problem = ACMEChallenge.tokenProblem(token) {
            throw ACMEError(.invalidInput, "the challenge token \(problem)")
        }
        guard let accountKey else {
            throw ACMEError(.invalidInput, "no account key yet: call account(key:contact:eab:) first")
        }
        return "\(token).\(accountKey.thumbprint)"
    }

    /// The dns-01 TXT value (RFC 8555 §8.4): base64url(SHA-256(key authorization)).
    public func dns01Value(token: String) throws -> String {
        Base64URL.encode(SHA256.hash(data: Array(try keyAuthorization(token: token).utf8)))
    }

    // MARK: Internals

    private func fetchOrder(url: String) async throws -> (order: ACMEOrder, retryAfter: Double?) {
        let checked = try ServerURL.check(url, field: "order url", from: "the caller")
        let response = try await signedPost(checked, payload: nil, maxBytes: limits.maxResponseBytes)
        return (try ACMEOrder.decodeServer(response.body, url: checked, from: checked), response.retryAfter)
    }

    private func fetchAuthorization(url: String) async throws
        -> (authorization: ACMEAuthorization, retryAfter: Double?)
    {
        let checked = try ServerURL.check(url, field: "authorization url", from: "the caller")
        let response = try await signedPost(checked, payload: nil, maxBytes: limits.maxResponseBytes)
        return (try ACMEAuthorization.decodeServer(response.body, url: checked), response.retryAfter)
    }

    /// Sleeps (outside isolation, so other calls run) before the next poll.
    private func pause(
        retryAfter: Double?, interval: inout Double, deadline: ContinuousClock.Instant, url: String,
        status: String
    ) async throws {
        let remaining = deadline - ContinuousClock.now
        guard remaining > .zero else {
            throw ACMEError(
                .timeout,
                "\(url) was still \"\(status)\" after \(limits.pollTimeout) s of polling: the server is slow "
                    + "or the challenge cannot be validated; try again later", url: url)
        }
        let wait: Double
        if let retryAfter {
            wait = retryAfter
        } else {
            wait = interval
            interval = min(interval * 2, limits.maxPollInterval)
        }
        let waitDuration = Duration.milliseconds(Int64(max(0, wait) * 1000))
        try await Task.sleep(for: min(waitDuration, remaining))
    }

    /// A JWS-signed POST (payload nil: POST-as-GET) with the account's `kid` unless `signer` says otherwise;
    /// retried with a fresh nonce on `badNonce`. Throws the server's problem on non-2xx.
    private func signedPost(
        _ url: String, payload: [UInt8]?, key: ACMEAccountKey? = nil, signer: JWS.Signer? = nil,
        accept: String? = nil, maxBytes: Int
    ) async throws -> ACMEResponse {
        guard let key = key ?? accountKey else {
            throw ACMEError(
                .invalidInput, "no ACME account yet: call account(key:contact:eab:) before \(url)", url: url)
        }
        let resolvedSigner: JWS.Signer
        if let signer {
            resolvedSigner = signer
        } else if let accountURL {
            resolvedSigner = .kid(accountURL)
        } else {
            throw ACMEError(
                .invalidInput, "no ACME account yet: call account(key:contact:eab:) before \(url)", url: url)
        }
        var attempt = 0
        while true {
            let nonce = try await takeNonce()
            let body = try JWS.sign(payload: payload, url: url, nonce: nonce, key: key, signer: resolvedSigner)
            var headers = [("content-type", "application/jose+json")]
            if let accept { headers.append(("accept", accept)) }
            let response = try await send(.POST, url, headers: headers, body: body, maxBytes: maxBytes)
            if (200..<300).contains(response.status) { return response }
            let error = response.error()
            if error.acmeErrorName == "badNonce" && attempt < limits.badNonceRetries {
                attempt += 1
                badNonceRetryCount += 1
                logger.debug("acme badNonce, retrying", metadata: ["acme.url": "\(url)", "acme.attempt": "\(attempt)"])
                continue
            }
            throw error
        }
    }

    private func takeNonce() async throws -> String {
        if let nonce = nonces.popLast() { return nonce }
        let newNonce = try await directory().newNonce
        let response = try await send(.HEAD, newNonce, maxBytes: limits.maxErrorBytes)
        // `send` pooled the nonce; another call may have taken it meanwhile, so take any.
        if let nonce = nonces.popLast() { return nonce }
        guard (200..<300).contains(response.status) else { throw response.error() }
        throw ACMEError(
            .badResponse, "newNonce at \(newNonce) gave no Replay-Nonce header", url: newNonce,
            status: response.status)
    }

    /// One HTTP exchange within the concurrency limit; pools the response's Replay-Nonce.
    private func send(
        _ method: HTTPMethod, _ url: String, headers: [(String, String)] = [], body: [UInt8]? = nil,
        maxBytes: Int
    ) async throws -> ACMEResponse {
        await acquire()
        defer { release() }
        let response = try await transport.send(
            method: method, url: url, headers: headers, body: body,
            maxBytes: maxBytes, logger: logger)
        if let nonce = response.replayNonce, !nonce.isEmpty, nonce.allSatisfy(Base64URL.isAlphabet) {
            nonces.append(nonce)
            if nonces.count > 64 { nonces.removeFirst(nonces.count - 64) }
        }
        return response
    }

    private func acquire() async {
        if inFlight < max(1, limits.maxConcurrentRequests) {
            inFlight += 1
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    private func release() {
        if waiters.isEmpty {
            inFlight -= 1
        } else {
            waiters.removeFirst().resume()
        }
    }

    private static func json(_ object: [String: Any]) throws -> [UInt8] {
        Array(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]))
    }

    static func parseDate(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)
    }
}
