import Foundation
import SSLMCore

/// What `sslm check` is asked to do: where DNS answers come from, where to connect, how to speak TLS.
///
/// Guarantees: every DNS query goes to `resolver` or, without one, to the apex's `[[dns_primary]]` — an IP
/// address and port, never /etc/resolv.conf. Not a config section: these are command-line choices.
public struct DANECheckOptions: Sendable {
    /// A validating resolver whose AD flag is trusted (e.g. unbound on loopback). Nil: ask the
    /// `[[dns_primary]]`, whose answers are never validated.
    public var resolver: NameserverAddress?
    /// Host name (lowercase, no trailing dot) → where to connect for it, instead of its A/AAAA record
    /// and the DANE port.
    public var connect: [String: NameserverAddress]
    /// Port → STARTTLS protocol for `openssl s_client -starttls` (`smtp`, `imap`, …), for DANE endpoints and
    /// for `check_endpoints` entries without `=PROTOCOL`; absent or `none` means TLS from the first byte.
    /// Defaults: 25 and 587 → smtp.
    public var starttls: [Int: String]
    /// When true, an answer that is not DNSSEC-validated is a warning instead of a failure.
    public var allowUnvalidated: Bool
    /// Per connection (the whole TLS handshake) and per DNS attempt.
    public var timeoutSeconds: Double
    /// "Now", for the renewal window and for verifying served chains.
    public var now: Date
    /// Endpoints probed at once (and services prepared at once).
    public var concurrency: Int

    public static let defaultStartTLS: [Int: String] = StartTLSProtocol.defaultByPort
    public static let defaultConcurrency = 16
    /// `--parallel`: at most this many at once.
    public static let concurrencyRange = 1...256

    public init(
        resolver: NameserverAddress? = nil, connect: [String: NameserverAddress] = [:],
        starttls: [Int: String] = DANECheckOptions.defaultStartTLS, allowUnvalidated: Bool = false,
        timeoutSeconds: Double = 10, now: Date = Date(), concurrency: Int = DANECheckOptions.defaultConcurrency
    ) {
        self.resolver = resolver
        self.connect = connect
        self.starttls = starttls
        self.allowUnvalidated = allowUnvalidated
        self.timeoutSeconds = timeoutSeconds
        self.now = now
        self.concurrency = concurrency
    }

    /// The STARTTLS protocol for a port, nil for direct TLS.
    public func startTLSProtocol(port: Int) -> String? {
        guard let name = starttls[port], name != "none", !name.isEmpty else { return nil }
        return name
    }

    /// Protocols `openssl s_client -starttls` speaks (OpenSSL 3.0).
    public static let startTLSProtocols: Set<String> = StartTLSProtocol.names

    /// Parses `HOST=ADDR:PORT` (`mail.example.com=127.0.0.1:2525`).
    public static func parseConnect(_ text: String) -> Result<(String, NameserverAddress), SSLMError> {
        guard let equals = text.firstIndex(of: "=") else {
            return .failure(SSLMError(.invalidArgument, "--connect \"\(text)\": expected HOST=ADDR:PORT"))
        }
        var host = text[..<equals].lowercased()
        while host.hasSuffix(".") { host.removeLast() }
        let target = String(text[text.index(after: equals)...])
        guard !host.isEmpty, target.contains(":") || target.hasPrefix("[") else {
            return .failure(SSLMError(.invalidArgument, "--connect \"\(text)\": expected HOST=ADDR:PORT"))
        }
        switch NameserverAddress.parse(target) {
        case .success(let address): return .success((host, address))
        case .failure(let error):
            return .failure(SSLMError(.invalidArgument, "--connect \"\(text)\": \(error.description)"))
        }
    }

    /// Parses `PORT=PROTO` (`2525=smtp`, `443=none`).
    public static func parseStartTLS(_ text: String) -> Result<(Int, String), SSLMError> {
        let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2, let port = Int(parts[0]), (1...65535).contains(port) else {
            return .failure(SSLMError(.invalidArgument, "--starttls \"\(text)\": expected PORT=PROTOCOL"))
        }
        let name = parts[1].lowercased()
        guard startTLSProtocols.contains(name) else {
            return .failure(
                SSLMError(
                    .invalidArgument,
                    "--starttls \"\(text)\": \(name) is not one of "
                        + startTLSProtocols.sorted().joined(separator: ", ")
                ))
        }
        return .success((port, name))
    }
}
