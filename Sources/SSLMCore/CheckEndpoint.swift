import Foundation

/// One TLS endpoint `sslm check` connects to for a service: a host, a port and how TLS starts there.
///
/// Written `HOST:PORT` or `HOST:PORT=PROTOCOL` (a service file's `check_endpoints`): `HOST:PORT` is the
/// `ADDR:PORT` of `--connect` and `[dns] dane_connect` (an IPv6 address in brackets, `[2001:db8::1]:443`),
/// and `PORT=PROTOCOL` is the `--starttls PORT=PROTOCOL` of `sslm check`, with the same protocol names
/// (`openssl s_client -starttls`; `none` = TLS from the first byte). Without `=PROTOCOL` the port's
/// default applies, as for a DANE endpoint: `smtp` on 25 and 587 (or `--starttls`), direct TLS otherwise.
///
/// Guarantees: `host` is a lowercased DNS name without a trailing dot, or an IP literal; never a wildcard;
/// `port` is 1–65535; `startTLS` is nil or one of `StartTLSProtocol.names`.
public struct CheckEndpoint: Sendable, Hashable, Codable, CustomStringConvertible {
    public var host: String
    public var port: Int
    /// The protocol written after `=`; nil when the entry has none (the port's default applies).
    public var startTLS: String?

    public init(host: String, port: Int, startTLS: String? = nil) {
        self.host = host
        self.port = port
        self.startTLS = startTLS
    }

    /// Whether `host` is an IP literal (connected to as is, no SNI).
    public var hostIsAddress: Bool { HostName.isIPv4(host) || HostName.isIPv6(host) }

    /// `host:port`, `[v6]:port`, plus `=protocol` when one was written.
    public var description: String {
        let address = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        return address + (startTLS.map { "=\($0)" } ?? "")
    }

    /// The shape, for messages.
    public static let syntax =
        "'HOST:PORT' or 'HOST:PORT=PROTOCOL' (e.g. 'www.example.com:443', 'mail.example.com:143=imap')"

    /// Parses one entry; the failure is a sentence fragment saying what is wrong (without the entry itself).
    public static func parse(_ text: String) -> Result<CheckEndpoint, HostNameError> {
        if let scheme = text.range(of: "://") {
            let name = text[..<scheme.lowerBound].lowercased()
            return .failure(
                HostNameError(
                    "a URL; the protocol goes after the port: 'HOST:PORT=\(SafeName.printable(name))'"))
        }
        if let space = text.firstIndex(of: " "), text.contains(":"),
            StartTLSProtocol.names.contains(text[text.index(after: space)...].trimmingCharacters(in: .whitespaces))
        {
            let name = text[text.index(after: space)...].trimmingCharacters(in: .whitespaces)
            return .failure(
                HostNameError("the protocol goes after \"=\", not a space: '\(text[..<space])=\(name)'"))
        }
        var address = Substring(text)
        var startTLS: String?
        if let equals = text.lastIndex(of: "=") {
            address = text[..<equals]
            let name = text[text.index(after: equals)...].lowercased()
            guard StartTLSProtocol.names.contains(name) else {
                return .failure(
                    HostNameError(
                        "unknown STARTTLS protocol \"\(SafeName.printable(name))\" (expected one of "
                            + StartTLSProtocol.names.sorted().joined(separator: ", ") + ")"))
            }
            startTLS = name
        }
        let host: Substring
        let portText: Substring
        if address.hasPrefix("[") {
            guard let close = address.firstIndex(of: "]") else {
                return .failure(HostNameError("\"[\" without \"]\""))
            }
            host = address[address.index(after: address.startIndex)..<close]
            let rest = address[address.index(after: close)...]
            guard rest.hasPrefix(":") else { return .failure(HostNameError("no port after the IPv6 address")) }
            portText = rest.dropFirst()
            guard HostName.isIPv6(String(host)) else {
                return .failure(HostNameError("\"\(SafeName.printable(String(host)))\" is not an IPv6 address"))
            }
        } else {
            let colons = address.filter { $0 == ":" }.count
            if colons > 1 {
                return .failure(HostNameError("an IPv6 address needs brackets: '[2001:db8::1]:443'"))
            }
            guard colons == 1, let colon = address.firstIndex(of: ":") else {
                return .failure(HostNameError("no port"))
            }
            host = address[..<colon]
            portText = address[address.index(after: colon)...]
        }
        guard !portText.isEmpty, portText.count <= 5, portText.allSatisfy({ ("0"..."9").contains($0) }),
            let port = Int(portText)
        else {
            return .failure(HostNameError("the port \"\(SafeName.printable(String(portText)))\" is not a number"))
        }
        guard (1...65535).contains(port) else { return .failure(HostNameError("port \(port) is outside 1–65535")) }
        switch HostName.classify(String(host)) {
        case .failure(let error): return .failure(error)
        case .success(.wildcard(let name)):
            return .failure(HostNameError("\"\(name)\" is a wildcard: name a host that can be connected to"))
        case .success(let name): return .success(CheckEndpoint(host: name.text, port: port, startTLS: startTLS))
        }
    }
}

/// The STARTTLS protocols of `openssl s_client -starttls` (OpenSSL 3.0) and the ports that use one by
/// default; shared by `sslm check --starttls` and `check_endpoints`.
public enum StartTLSProtocol {
    /// Every name `-starttls` accepts, plus `none` (TLS from the first byte).
    public static let names: Set<String> = [
        "smtp", "pop3", "imap", "ftp", "xmpp", "xmpp-server", "irc", "postgres", "mysql", "lmtp", "nntp", "sieve",
        "ldap", "none",
    ]

    /// Ports that speak STARTTLS unless told otherwise: SMTP (25) and submission (587).
    public static let defaultByPort: [Int: String] = [25: "smtp", 587: "smtp"]
}
