/// The one error type of sslm's modules.
///
/// `code` is extensible and is what tests compare (equality is by code only); `message` says what
/// happened and what to do; `underlying` keeps the cause. Never put private key material in a message.
public struct SSLMError: Error, Sendable, CustomStringConvertible, Equatable {
    /// An extensible error code, e.g. `.configInvalid`.
    public struct Code: Hashable, Sendable, RawRepresentable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        public static let configInvalid = Code(rawValue: "config_invalid")
        public static let topdirNotFound = Code(rawValue: "topdir_not_found")
        public static let fileUnreadable = Code(rawValue: "file_unreadable")
        public static let malformedInput = Code(rawValue: "malformed_input")
        public static let unsupported = Code(rawValue: "unsupported")
        public static let cryptoFailure = Code(rawValue: "crypto_failure")
        public static let verificationFailed = Code(rawValue: "verification_failed")
        public static let ioFailure = Code(rawValue: "io_failure")
        public static let invalidArgument = Code(rawValue: "invalid_argument")
        /// Another sslm holds the topdir's lock and did not release it in time; nothing was done.
        public static let lockHeld = Code(rawValue: "lock_held")
        /// A file is larger than sslm accepts for its kind (`BoundedFile.Limit`).
        public static let fileTooLarge = Code(rawValue: "file_too_large")
        /// A symlink where sslm manages a regular file or directory: it refuses to write (or read) through it.
        public static let symbolicLink = Code(rawValue: "symbolic_link")
    }

    public var code: Code
    public var message: String
    public var underlying: String?
    public var file: String
    public var line: UInt

    public init(
        _ code: Code, _ message: String, underlying: (any Error)? = nil,
        file: String = #fileID, line: UInt = #line
    ) {
        self.code = code
        self.message = message
        self.underlying = underlying.map { String(describing: $0) }
        self.file = file
        self.line = line
    }

    public var description: String {
        if let underlying { return "\(message) (\(underlying))" }
        return message
    }

    public static func == (lhs: SSLMError, rhs: SSLMError) -> Bool { lhs.code == rhs.code }
}
