import SSLMCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Sends one DNS message to one IP address and port and returns the answer's bytes: over a connected UDP
/// socket (so a closed port shows as "connection refused" at once instead of a timeout) or over TCP (RFC
/// 1035 §4.2.2: a two-byte length before the message). Only an answer with the request's ID counts; others
/// are skipped until the deadline. Blocking; each call has its own socket.
struct DNSMessageTransport {
    enum Failure: Error, Equatable {
        case timeout
        case refused
        case other(String)
    }

    var timeoutSeconds: Double

    func exchangeUDP(_ message: [UInt8], id: UInt16, server: NameserverAddress) -> Result<[UInt8], Failure> {
        withSocket(server, type: Int32(SOCK_DGRAM.rawValue)) { fd, deadline in
            let sent = message.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
            if sent < 0 { return .failure(Self.failure(errno)) }
            var buffer = [UInt8](repeating: 0, count: 65_535)
            while true {
                if let failure = wait(fd, events: Int16(POLLIN), deadline: deadline) { return .failure(failure) }
                let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if count < 0 {
                    if errno == EINTR || errno == EAGAIN { continue }
                    return .failure(Self.failure(errno))
                }
                if count >= 12, UInt16(buffer[0]) << 8 | UInt16(buffer[1]) == id {
                    return .success(Array(buffer[0..<count]))
                }
            }
        }
    }

    func exchangeTCP(_ message: [UInt8], id: UInt16, server: NameserverAddress) -> Result<[UInt8], Failure> {
        guard message.count <= 65_535 else { return .failure(.other("the message exceeds 65535 bytes")) }
        return withSocket(server, type: Int32(SOCK_STREAM.rawValue)) { fd, deadline in
            let framed = [UInt8(message.count >> 8), UInt8(message.count & 0xFF)] + message
            var offset = 0
            while offset < framed.count {
                if let failure = wait(fd, events: Int16(POLLOUT), deadline: deadline) { return .failure(failure) }
                let sent = framed[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if sent < 0 {
                    if errno == EINTR || errno == EAGAIN { continue }
                    return .failure(Self.failure(errno))
                }
                offset += sent
            }
            while true {
                let prefix = read(fd, count: 2, deadline: deadline)
                guard case .success(let header) = prefix else { return prefix }
                let length = Int(header[0]) << 8 | Int(header[1])
                let body = read(fd, count: length, deadline: deadline)
                guard case .success(let answer) = body else { return body }
                if answer.count >= 12, UInt16(answer[0]) << 8 | UInt16(answer[1]) == id { return .success(answer) }
            }
        }
    }

    // MARK: sockets

    private func read(_ fd: Int32, count: Int, deadline: Double) -> Result<[UInt8], Failure> {
        var result = [UInt8](repeating: 0, count: count)
        var offset = 0
        while offset < count {
            if let failure = wait(fd, events: Int16(POLLIN), deadline: deadline) { return .failure(failure) }
            let got = result.withUnsafeMutableBytes { buffer in
                buffer.baseAddress.map { recv(fd, $0 + offset, count - offset, 0) } ?? 0
            }
            if got < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                return .failure(Self.failure(errno))
            }
            if got == 0 { return .failure(.other("the server closed the TCP connection before answering")) }
            offset += got
        }
        return .success(result)
    }

    /// A non-blocking socket connected to `server`, handed to `body` with the deadline (monotonic seconds).
    private func withSocket(
        _ server: NameserverAddress, type: Int32, _ body: (Int32, Double) -> Result<[UInt8], Failure>
    ) -> Result<[UInt8], Failure> {
        let deadline = Self.now() + max(0.001, timeoutSeconds)
        var storage = sockaddr_storage()
        var length: socklen_t
        let family: Int32
        if HostName.isIPv4(server.host) {
            family = AF_INET
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(server.port).bigEndian)
            _ = server.host.withCString { inet_pton(AF_INET, $0, &address.sin_addr) }
            length = socklen_t(MemoryLayout<sockaddr_in>.size)
            withUnsafeMutableBytes(of: &storage) { raw in withUnsafeBytes(of: address) { raw.copyMemory(from: $0) } }
        } else if HostName.isIPv6(server.host) {
            family = AF_INET6
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = in_port_t(UInt16(server.port).bigEndian)
            _ = server.host.withCString { inet_pton(AF_INET6, $0, &address.sin6_addr) }
            length = socklen_t(MemoryLayout<sockaddr_in6>.size)
            withUnsafeMutableBytes(of: &storage) { raw in withUnsafeBytes(of: address) { raw.copyMemory(from: $0) } }
        } else {
            return .failure(.other("\(server.host) is not an IP address"))
        }
        let fd = socket(family, type, 0)
        guard fd >= 0 else { return .failure(Self.failure(errno)) }
        defer { close(fd) }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        let connected = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, length) }
        }
        if connected != 0 {
            guard errno == EINPROGRESS else { return .failure(Self.failure(errno)) }
            if let failure = wait(fd, events: Int16(POLLOUT), deadline: deadline) { return .failure(failure) }
            var error: Int32 = 0
            var size = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size)
            if error != 0 { return .failure(Self.failure(error)) }
        }
        return body(fd, deadline)
    }

    /// nil when `fd` is ready for `events` before the deadline; a pending socket error (ECONNREFUSED from an
    /// ICMP port unreachable) is reported as such.
    private func wait(_ fd: Int32, events: Int16, deadline: Double) -> Failure? {
        while true {
            let left = deadline - Self.now()
            if left <= 0 { return .timeout }
            var item = pollfd(fd: fd, events: events, revents: 0)
            let ready = poll(&item, 1, Int32(min(left * 1000, Double(Int32.max)).rounded(.up)))
            if ready < 0 {
                if errno == EINTR { continue }
                return Self.failure(errno)
            }
            if ready == 0 { return .timeout }
            if item.revents & Int16(POLLERR) != 0 {
                var error: Int32 = 0
                var size = socklen_t(MemoryLayout<Int32>.size)
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size)
                if error != 0 { return Self.failure(error) }
            }
            return nil
        }
    }

    private static func failure(_ code: Int32) -> Failure {
        if code == ECONNREFUSED { return .refused }
        if code == ETIMEDOUT { return .timeout }
        return .other(String(cString: strerror(code)))
    }

    private static func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }
}
