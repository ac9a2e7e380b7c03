import Foundation
import SSLMCore
import X509

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One subject alternative name sslm writes or reads: a DNS name (possibly a `*.` wildcard) or an IP
/// address. IP addresses are kept as their canonical text and their network-order bytes.
///
/// Not for e-mail, URI or other general name forms: `init(generalName:)` returns nil for them.
public enum AlternativeName: Sendable, Hashable, CustomStringConvertible {
    case dnsName(String)
    case ipAddress(String)

    /// Parses a config entry; `SSLMError(.invalidArgument)` when it is neither a host name nor an address
    /// (for example a network such as `10.0.0.0/8`).
    public init(parsing text: String) throws {
        switch HostName.classify(text) {
        case .success(.dns(let name)), .success(.wildcard(let name)): self = .dnsName(name)
        case .success(.ipv4(let address)), .success(.ipv6(let address)):
            guard let canonical = Self.canonicalAddress(address) else {
                throw SSLMError(.invalidArgument, "subject alternative name \"\(address)\" is not an IP address")
            }
            self = .ipAddress(canonical)
        case .failure(let error):
            throw SSLMError(.invalidArgument, "subject alternative name \(error)")
        }
    }

    /// The typed view of a general name from a certificate or CSR; nil for forms sslm does not use.
    public init?(generalName: GeneralName) {
        switch generalName {
        case .dnsName(let name): self = .dnsName(name)
        case .ipAddress(let octets):
            guard let text = Self.addressText(Array(octets.bytes)) else { return nil }
            self = .ipAddress(text)
        default: return nil
        }
    }

    /// True for `*.` names.
    public var isWildcard: Bool {
        if case .dnsName(let name) = self { return name.hasPrefix("*.") }
        return false
    }

    /// The opaque X.509 form.
    public var generalName: GeneralName {
        switch self {
        case .dnsName(let name): return .dnsName(name)
        case .ipAddress(let text): return .ipAddress(.init(contentBytes: ArraySlice(Self.addressBytes(text) ?? [])))
        }
    }

    public var description: String {
        switch self {
        case .dnsName(let name), .ipAddress(let name): name
        }
    }

    static func addressBytes(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if text.withCString({ inet_pton(AF_INET, $0, &v4) }) == 1 {
            return withUnsafeBytes(of: &v4) { Array($0) }
        }
        var v6 = in6_addr()
        if text.withCString({ inet_pton(AF_INET6, $0, &v6) }) == 1 {
            return withUnsafeBytes(of: &v6) { Array($0) }
        }
        return nil
    }

    static func addressText(_ bytes: [UInt8]) -> String? {
        var buffer = [CChar](repeating: 0, count: 64)
        let family: Int32
        switch bytes.count {
        case 4: family = AF_INET
        case 16: family = AF_INET6
        default: return nil
        }
        let ok = bytes.withUnsafeBytes { raw in
            inet_ntop(family, raw.baseAddress, &buffer, socklen_t(buffer.count)) != nil
        }
        guard ok else { return nil }
        return String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func canonicalAddress(_ text: String) -> String? {
        addressBytes(text).flatMap(addressText)
    }
}
