/// A DNS server to query: a host (an IP literal, or a name that sslm resolves through a pinned server,
/// never through /etc/resolv.conf) and a port. Written `addr`, `addr:port`, `[v6]:port` or a bare IPv6.
public struct NameserverAddress: Sendable, Hashable, Codable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int = 53) {
        self.host = host
        self.port = port
    }

    /// Parses `127.0.0.1`, `127.0.0.1:5053`, `[::1]:5053`, `::1`, `ns1.example.com:53`.
    public static func parse(_ text: String, defaultPort: Int = 53) -> Result<NameserverAddress, HostNameError> {
        var host = text
        var port = defaultPort
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else {
                return .failure(HostNameError("\"\(SafeName.printable(text))\" has \"[\" without \"]\""))
            }
            host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":"), let p = Int(rest.dropFirst()) else {
                    return .failure(HostNameError("\"\(SafeName.printable(text))\" has a malformed port"))
                }
                port = p
            }
            guard HostName.isIPv6(host) else {
                return .failure(HostNameError("\"\(SafeName.printable(host))\" is not a valid IPv6 address"))
            }
        } else if text.filter({ $0 == ":" }).count == 1, let colon = text.firstIndex(of: ":") {
            host = String(text[..<colon])
            guard let p = Int(text[text.index(after: colon)...]) else {
                return .failure(HostNameError("\"\(SafeName.printable(text))\" has a malformed port"))
            }
            port = p
        }
        guard (1...65535).contains(port) else {
            return .failure(HostNameError("port \(port) is outside 1–65535"))
        }
        switch HostName.classify(host) {
        case .failure(let error): return .failure(error)
        case .success(.wildcard): return .failure(HostNameError("\"\(host)\" is a wildcard, not a server"))
        case .success(let name): return .success(NameserverAddress(host: name.text, port: port))
        }
    }

    public var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}
