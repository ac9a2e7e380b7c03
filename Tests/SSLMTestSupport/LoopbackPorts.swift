import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Loopback ports for tests.
public enum LoopbackPorts {
    /// A UDP port on 127.0.0.1 where nothing listens (bound once to find a free one, then closed).
    public static func unusedUDP() -> Int { unused(Int32(SOCK_DGRAM.rawValue)) }

    /// A TCP port on 127.0.0.1 where nothing listens (a connection is refused), found the same way.
    public static func unusedTCP() -> Int { unused(Int32(SOCK_STREAM.rawValue)) }

    private static func unused(_ type: Int32) -> Int {
        let fd = socket(AF_INET, type, 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
