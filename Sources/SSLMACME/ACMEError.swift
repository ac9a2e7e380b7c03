/// The one error type of SSLMACME.
///
/// `code` says what kind of failure it was (tests compare codes: equality is by code only); `message`
/// says what happened and what to do. Server problem documents (RFC 7807 / RFC 8555 §6.7) keep their
/// `type`, `detail`, `status` and `subproblems`. Never carries key material, JWS bodies or EAB secrets.
public struct ACMEError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The kind of failure.
    public enum Code: String, Sendable, Hashable, CustomStringConvertible {
        /// The server could not be reached or the connection failed (DNS, TCP, TLS).
        case network
        /// The server answered with something that is not valid ACME (bad JSON, missing header, oversized…).
        case badResponse
        /// The server answered with an ACME problem document.
        case problem
        /// A request or a poll took longer than its limit.
        case timeout
        /// The caller or the server gave a value that must not be used (unsafe token, unknown profile…).
        case invalidInput
        /// A downloaded certificate chain does not verify.
        case chainInvalid
        /// The server lacks a feature the caller asked for.
        case unsupported

        public var description: String { rawValue }
    }

    public var code: Code
    public var message: String
    /// The request URL the error belongs to, when there is one.
    public var url: String?
    /// The problem `type` (e.g. `urn:ietf:params:acme:error:badNonce`), for `.problem`.
    public var problemType: String?
    /// The problem `detail`, for `.problem`.
    public var detail: String?
    /// The HTTP status of the response, when there was one.
    public var status: Int?
    /// Per-identifier problems (RFC 8555 §6.7.1).
    public var subproblems: [ACMEProblem]
    public var file: String
    public var line: UInt

    public init(_ code: Code, _ message: String, url: String? = nil, status: Int? = nil,
                file: String = #fileID, line: UInt = #line) {
        self.code = code
        self.message = message
        self.url = url
        self.status = status
        self.subproblems = []
        self.file = file
        self.line = line
    }

    /// An error for a server problem document; the message quotes its type and detail.
    public init(problem: ACMEProblem, method: String? = nil, url: String?, status: Int?,
                file: String = #fileID, line: UInt = #line) {
        var text = "\(problem.type): \(problem.detail ?? "(no detail)")"
        for sub in problem.subproblems ?? [] {
            let who = sub.identifier.map { " [\($0.type) \($0.value)]" } ?? ""
            text += "; \(sub.type)\(who): \(sub.detail ?? "(no detail)")"
        }
        if let url { text += " (\(method.map { "\($0) " } ?? "")\(url))" }
        self.init(.problem, text, url: url, status: status ?? problem.status, file: file, line: line)
        self.problemType = problem.type
        self.detail = problem.detail
        self.subproblems = problem.subproblems ?? []
    }

    /// The last component of an `urn:ietf:params:acme:error:` type (`badNonce`), if it is one.
    public var acmeErrorName: String? {
        let prefix = "urn:ietf:params:acme:error:"
        guard let problemType, problemType.hasPrefix(prefix) else { return nil }
        return String(problemType.dropFirst(prefix.count))
    }

    public var description: String { message }

    public static func == (lhs: ACMEError, rhs: ACMEError) -> Bool { lhs.code == rhs.code }
}

/// An ACME problem document (RFC 8555 §6.7), as sent by the server.
public struct ACMEProblem: Sendable, Codable, Hashable {
    public var type: String
    public var detail: String?
    public var status: Int?
    public var identifier: ACMEIdentifier?
    public var subproblems: [ACMEProblem]?

    public init(type: String, detail: String? = nil, status: Int? = nil, identifier: ACMEIdentifier? = nil,
                subproblems: [ACMEProblem]? = nil) {
        self.type = type
        self.detail = detail
        self.status = status
        self.identifier = identifier
        self.subproblems = subproblems
    }
}
