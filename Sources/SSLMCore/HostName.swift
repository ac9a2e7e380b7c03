#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Classification of a name that appears in a certificate's subject alternative names or as a
/// nameserver address: a DNS name, a wildcard DNS name, an IPv4 or an IPv6 literal.
///
/// `classify` is strict (RFC 1123 labels, underscores tolerated for service names, at most 253
/// bytes, a wildcard only as the whole leftmost label); it never resolves anything.
public enum HostName: Sendable, Hashable {
    case dns(String)
    case wildcard(String)
    case ipv4(String)
    case ipv6(String)

    /// Classifies `text`, or returns the reason it is not a usable host name.
    public static func classify(_ text: String) -> Result<HostName, HostNameError> {
        if text.isEmpty { return .failure(HostNameError("is empty")) }
        if text.utf8.contains(UInt8(ascii: "/")) {
            return .failure(
                HostNameError("\"\(SafeName.printable(text))\" is a network or path, not a host name or address"))
        }
        if isIPv4(text) { return .success(.ipv4(text)) }
        if text.utf8.contains(UInt8(ascii: ":")) {
            if isIPv6(text) { return .success(.ipv6(text)) }
            return .failure(HostNameError("\"\(SafeName.printable(text))\" is not a valid IPv6 address"))
        }
        var name = text
        if name.hasSuffix(".") { name.removeLast() }
        var wildcard = false
        if name.hasPrefix("*.") {
            wildcard = true
            name.removeFirst(2)
        }
        if let problem = dnsNameProblem(name) {
            return .failure(HostNameError("\"\(SafeName.printable(text))\" \(problem)"))
        }
        let lower = name.lowercased()
        return .success(wildcard ? .wildcard("*." + lower) : .dns(lower))
    }

    /// The text form: lowercased DNS names (with `*.` for wildcards), addresses as given.
    public var text: String {
        switch self {
        case .dns(let s), .wildcard(let s), .ipv4(let s), .ipv6(let s): s
        }
    }

    public var isIPAddress: Bool {
        switch self {
        case .ipv4, .ipv6: true
        default: false
        }
    }

    public static func isIPv4(_ text: String) -> Bool {
        var addr = in_addr()
        return text.withCString { inet_pton(AF_INET, $0, &addr) } == 1
    }

    public static func isIPv6(_ text: String) -> Bool {
        var addr = in6_addr()
        return text.withCString { inet_pton(AF_INET6, $0, &addr) } == 1
    }

    private static func dnsNameProblem(_ name: String) -> String? {
        if name.isEmpty { return "has no labels" }
        if name.utf8.count > 253 { return "is longer than 253 characters" }
        for label in name.split(separator: ".", omittingEmptySubsequences: false) {
            if label.isEmpty { return "has an empty label" }
            if label.utf8.count > 63 { return "has a label longer than 63 characters" }
            if label.hasPrefix("-") || label.hasSuffix("-") { return "has a label that starts or ends with \"-\"" }
            if label == "*" { return "has a wildcard that is not the whole leftmost label" }
            for byte in label.utf8 {
                let ok =
                    (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A)
                    || (byte >= 0x61 && byte <= 0x7A) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
                if !ok { return "contains a character not allowed in a DNS name" }
            }
        }
        return nil
    }
}

/// Why a string is not a usable host name (a sentence fragment such as `"a b" contains …`).
public struct HostNameError: Error, Sendable, Hashable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

extension HostName {
    /// A comparable form of a SAN: DNS names lowercased without a trailing dot, IP addresses in their
    /// canonical text form (`2001:db8::1`, whatever zero-compression the source used).
    public static func canonical(_ text: String) -> String {
        if isIPv6(text) {
            var address = in6_addr()
            var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
            _ = text.withCString { inet_pton(AF_INET6, $0, &address) }
            if inet_ntop(AF_INET6, &address, &buffer, socklen_t(buffer.count)) != nil {
                return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            }
            return text.lowercased()
        }
        var lower = text.lowercased()
        if lower.hasSuffix(".") { lower.removeLast() }
        return lower
    }
}
