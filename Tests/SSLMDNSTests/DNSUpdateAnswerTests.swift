import Foundation
import Logging
import SSLMConfig
import SSLMCore
import SSLMDNS
import SSLMTestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// How `DNSUpdateClient` reads answers a real server is hard to provoke into: a UDP responder on loopback
/// echoes each request back as a response with a chosen RCODE (its TSIG record is the request's, so it never
/// verifies), or never answers. No daemon: in the fast tier.
@Suite("DNS UPDATE answers mapped to sentences (a loopback UDP responder)", .serialized)
struct DNSUpdateAnswerTests {
    static let key = TSIGKey(
        name: "sslm-test", algorithm: .hmacSHA256,
        secret: TSIGSecret(base64: Data(repeating: 9, count: 32).base64EncodedString()))
    static let change = DNSZoneChange(zone: "example.com", additions: [.txt("_acme-challenge.example.com", "v")])
    let client = DNSUpdateClient(logger: Logger(label: "sslm.test.dns-update"), timeoutSeconds: 0.5)

    /// One RCODE and what the client must make of it.
    struct Case: CustomTestStringConvertible, Sendable {
        let rcode: UInt8
        var tsigError: UInt8 = 0
        let kind: DNSUpdateError.Kind
        let contains: [String]
        var testDescription: String { "RCODE \(rcode), TSIG error \(tsigError) → \(kind)" }
    }

    static let cases: [Case] = [
        Case(rcode: 5, kind: .refused, contains: ["REFUSED", "does not let key \"sslm-test\" change these records"]),
        Case(rcode: 9, kind: .notAuthorized, contains: ["NOTAUTH", "not authoritative for zone example.com"]),
        Case(rcode: 9, tsigError: 16, kind: .notAuthorized, contains: ["NOTAUTH, TSIG BADSIG", "another secret"]),
        Case(rcode: 9, tsigError: 17, kind: .notAuthorized, contains: ["NOTAUTH, TSIG BADKEY", "hmac-sha256"]),
        Case(rcode: 9, tsigError: 18, kind: .notAuthorized, contains: ["NOTAUTH, TSIG BADTIME", "clocks", "NTP"]),
        Case(rcode: 10, kind: .notZone, contains: ["NOTZONE", "outside the zone example.com"]),
        Case(rcode: 2, kind: .serverFailure, contains: ["SERVFAIL", "see its log"]),
        Case(rcode: 4, kind: .otherRcode, contains: ["NOTIMPL"]),
        Case(rcode: 0, kind: .unverifiedResponse, contains: ["NOERROR without a valid TSIG signature"]),
    ]

    @Test("each RCODE is its kind and sentence, naming server, zone and key", arguments: cases)
    func rcodes(_ c: Case) throws {
        let responder = try EchoResponder(rcode: c.rcode, tsigError: c.tsigError)
        defer { responder.stop() }
        let result = client.send(Self.change, to: responder.address, key: Self.key)
        guard case .failure(let error) = result else {
            Issue.record("RCODE \(c.rcode) was taken as success")
            return
        }
        #expect(error.kind == c.kind)
        let tsigNames: [UInt8: String] = [16: "BADSIG", 17: "BADKEY", 18: "BADTIME"]
        #expect(error.tsigError == tsigNames[c.tsigError])
        for part in ["\(responder.address)", "zone example.com", "\"sslm-test\""] + c.contains {
            #expect(error.message.contains(part), "\(part) not in: \(error.message)")
        }
        #expect(!error.message.contains(Self.key.secret.base64))
        #expect(responder.requests == 1)
    }

    @Test("no UDP answer and TCP refused: a timeout that says so")
    func silentServer() throws {
        let responder = try EchoResponder(rcode: nil)
        defer { responder.stop() }
        guard case .failure(let error) = client.send(Self.change, to: responder.address, key: Self.key) else {
            Issue.record("a silent server was taken as success")
            return
        }
        #expect(error.kind == .timeout)
        #expect(error.message.contains("no answer over UDP") && error.message.contains("\(responder.address)"))
    }
}

/// A UDP socket on 127.0.0.1 that answers each datagram with the datagram itself as a response (QR set,
/// `rcode`, and `tsigError` in the error field of the request's TSIG record, the last record of a request
/// without other data), or never answers (`rcode == nil`). Runs on its own thread until `stop()`.
final class EchoResponder: @unchecked Sendable {
    let address: NameserverAddress
    private let fd: Int32
    private let lock = NSLock()
    private var count = 0
    private var running = true
    private let finished = DispatchSemaphore(value: 0)

    var requests: Int { lock.withLock { count } }

    init(rcode: UInt8?, tsigError: UInt8 = 0) throws {
        let descriptor = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard descriptor >= 0 else { throw SSLMError(.ioFailure, "socket failed") }
        var local = sockaddr_in()
        local.sin_family = sa_family_t(AF_INET)
        local.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) }
        }
        _ = withUnsafeMutablePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        guard bound == 0 else {
            close(descriptor)
            throw SSLMError(.ioFailure, "bind failed")
        }
        var timeout = timeval(tv_sec: 0, tv_usec: 50_000)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        fd = descriptor
        address = NameserverAddress(host: "127.0.0.1", port: Int(UInt16(bigEndian: local.sin_port)))
        Thread { [self] in serve(rcode, tsigError: tsigError) }.start()
    }

    private func serve(_ rcode: UInt8?, tsigError: UInt8) {
        defer { finished.signal() }
        var buffer = [UInt8](repeating: 0, count: 65_535)
        while lock.withLock({ running }) {
            var peer = sockaddr_storage()
            var peerLength = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let got = buffer.withUnsafeMutableBytes { raw in
                withUnsafeMutablePointer(to: &peer) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        recvfrom(fd, raw.baseAddress, raw.count, 0, $0, &peerLength)
                    }
                }
            }
            guard got >= 12 else { continue }
            lock.withLock { count += 1 }
            guard let rcode else { continue }
            var answer = Array(buffer[0..<got])
            answer[2] |= 0x80
            answer[3] = (answer[3] & 0xF0) | rcode
            answer[answer.count - 3] = tsigError  // error (2 bytes), then other-data length 0 (2 bytes)
            _ = answer.withUnsafeBytes { raw in
                withUnsafePointer(to: &peer) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        sendto(fd, raw.baseAddress, raw.count, 0, $0, peerLength)
                    }
                }
            }
        }
    }

    func stop() {
        lock.withLock { running = false }
        finished.wait()
        close(fd)
    }
}
