import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL

/// One HTTP response, body already read within its size limit.
struct ACMEResponse: Sendable {
    var status: Int
    var headers: HTTPHeaders
    var body: [UInt8]
    var url: String
    var method: String

    var contentType: String { headers.first(name: "content-type")?.lowercased() ?? "" }
    var location: String? { headers.first(name: "location") }
    var replayNonce: String? { headers.first(name: "replay-nonce") }

    /// Retry-After (RFC 9110 §10.2.3) in seconds: delay-seconds or an HTTP-date.
    var retryAfter: Double? {
        guard let value = headers.first(name: "retry-after")?.trimmingCharacters(in: .whitespaces) else { return nil }
        if let seconds = Int(value) { return Double(max(0, seconds)) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: value) else { return nil }
        return max(0, date.timeIntervalSinceNow)
    }

    /// `Link: <url>;rel="alternate"` targets (RFC 8288), in order.
    func links(rel: String) -> [String] {
        var out: [String] = []
        for header in headers[canonicalForm: "link"] {
            let value = String(header)
            guard let open = value.firstIndex(of: "<"), let close = value.firstIndex(of: ">"), open < close else {
                continue
            }
            let target = String(value[value.index(after: open)..<close])
            let params = value[value.index(after: close)...].split(separator: ";").map {
                $0.trimmingCharacters(in: .whitespaces).lowercased()
            }
            if params.contains("rel=\"\(rel)\"") || params.contains("rel=\(rel)") { out.append(target) }
        }
        return out
    }

    /// The problem document of a failed response, if the body is one.
    var problem: ACMEProblem? {
        guard contentType.contains("json"),
              let problem = try? JSONDecoder().decode(ACMEProblem.self, from: Data(body)) else { return nil }
        return problem
    }

    /// The error describing this (non-2xx) response.
    func error(file: String = #fileID, line: UInt = #line) -> ACMEError {
        if let problem { return ACMEError(problem: problem, method: method, url: url, status: status, file: file, line: line) }
        let kind = contentType.contains("json") ? "a JSON body that is not a problem document"
            : "non-JSON body (\(contentType.isEmpty ? "no content type" : contentType))"
        return ACMEError(.badResponse, "HTTP \(status) from \(method) \(url): \(kind), first bytes \(SafeText.preview(body))",
                         url: url, status: status, file: file, line: line)
    }
}

/// HTTP(S) for the ACME client: trust, timeouts and response size limits. Follows no redirects.
final class ACMETransport: Sendable {
    let http: HTTPClient
    let limits: ACMELimits

    init(trustFile: String?, limits: ACMELimits) throws {
        var tls = TLSConfiguration.makeClientConfiguration()
        if let trustFile {
            guard FileManager.default.isReadableFile(atPath: trustFile) else {
                throw ACMEError(.invalidInput, "the ACME trust file \(trustFile) is not readable: give a PEM CA bundle")
            }
            tls.trustRoots = .file(trustFile)
        }
        var config = HTTPClient.Configuration(tlsConfiguration: tls, redirectConfiguration: .disallow,
                                              timeout: .init(connect: .milliseconds(Int64(limits.requestTimeout * 1000)),
                                                             read: .milliseconds(Int64(limits.requestTimeout * 1000))))
        config.decompression = .disabled
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: config)
        self.limits = limits
    }

    deinit {
        // Non-blocking; harmless when `shutdown()` already ran.
        http.shutdown(queue: .global()) { _ in }
    }

    func shutdown() async {
        try? await http.shutdown()
    }

    /// Sends one request and reads the body, refusing more than `maxBytes` (2xx) or `limits.maxErrorBytes`.
    func send(method: HTTPMethod, url: String, headers: [(String, String)], body: [UInt8]?, maxBytes: Int,
              logger: Logger) async throws -> ACMEResponse
    {
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.headers.add(name: "user-agent", value: "sslm-acme/1")
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        let started = ContinuousClock.now
        let response: HTTPClientResponse
        do {
            response = try await http.execute(request, timeout: .milliseconds(Int64(limits.requestTimeout * 1000)))
        } catch {
            throw Self.mapped(error, method: method.rawValue, url: url, limits: limits)
        }
        let status = Int(response.status.code)
        let limit = (200..<300).contains(status) ? maxBytes : limits.maxErrorBytes
        if let length = response.headers.first(name: "content-length").flatMap(Int.init), length > limit {
            throw Self.oversized(method: method.rawValue, url: url, limit: limit, status: status)
        }
        var bytes: [UInt8] = []
        do {
            for try await chunk in response.body {
                if bytes.count + chunk.readableBytes > limit {
                    throw Self.oversized(method: method.rawValue, url: url, limit: limit, status: status)
                }
                bytes.append(contentsOf: chunk.readableBytesView)
            }
        } catch let error as ACMEError {
            throw error
        } catch {
            throw Self.mapped(error, method: method.rawValue, url: url, limits: limits)
        }
        var log = logger
        log[metadataKey: "acme.url"] = "\(url)"
        log.debug("acme http", metadata: [
            "acme.method": "\(method.rawValue)", "acme.status": "\(status)", "acme.bytes": "\(bytes.count)",
            "acme.ms": "\(Self.milliseconds(ContinuousClock.now - started))",
        ])
        return ACMEResponse(status: status, headers: response.headers, body: bytes, url: url, method: method.rawValue)
    }

    static func milliseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
    }

    private static func oversized(method: String, url: String, limit: Int, status: Int) -> ACMEError {
        ACMEError(.badResponse,
                  "the response to \(method) \(url) (HTTP \(status)) is larger than the limit of \(limit) bytes: "
                  + "refused (raise ACMELimits if the server is trusted)", url: url, status: status)
    }

    private static func mapped(_ error: any Error, method: String, url: String, limits: ACMELimits) -> ACMEError {
        if let error = error as? ACMEError { return error }
        if let error = error as? HTTPClientError,
           error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout {
            return ACMEError(.timeout, "\(method) \(url) timed out after \(limits.requestTimeout) s (\(error))", url: url)
        }
        return ACMEError(.network, "\(method) \(url) failed: \(error); check the URL, the network and the trust file",
                         url: url)
    }
}
