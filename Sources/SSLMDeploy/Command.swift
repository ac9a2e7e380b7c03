/// One external program to run: an argv list (never a shell line) and how long it may take.
///
/// `argv[0]` is a path, or a bare name looked up in `PATH`. Nothing in it is interpreted by a shell:
/// spaces, quotes and `$` are passed as they are.
public struct Command: Sendable, Hashable, CustomStringConvertible {
    public var argv: [String]
    /// After this the program is sent SIGTERM, then SIGKILL (its whole process group).
    public var timeout: Duration
    /// Bytes for the program's standard input (e.g. an exec DNS provider's JSON document, a hook's run
    /// document); nil: /dev/null. Never shown in `description`.
    public var input: [UInt8]?
    /// Variables set for the program on top of sslm's environment.
    public var environment: [String: String]

    public init(_ argv: [String], timeout: Duration, input: [UInt8]? = nil, environment: [String: String] = [:]) {
        self.argv = argv
        self.timeout = timeout
        self.input = input
        self.environment = environment
    }

    /// The argv for messages, words with white space or quotes shown quoted.
    public var description: String {
        argv.map { word in
            word.isEmpty || word.contains(where: { $0 == " " || $0 == "\"" || $0 == "'" || $0 == "\t" })
                ? "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'" : word
        }.joined(separator: " ")
    }
}

/// What happened when a `Command` ran.
///
/// `succeeded` is true only for a normal exit with status 0 within the timeout. `output` is the
/// combined stdout and stderr (the last `ProcessCommandRunner.outputLimit` bytes), for logs and messages.
public struct CommandResult: Sendable, Hashable {
    /// How the program ended.
    public enum Termination: Sendable, Hashable {
        /// Exited with this status.
        case exited(Int32)
        /// Killed by this signal (other than by our timeout).
        case signalled(Int32)
        /// Ran longer than the timeout and was killed.
        case timedOut
        /// Could not be started (not found, not executable): the reason.
        case notStarted(String)
    }

    public var termination: Termination
    public var output: String

    public init(termination: Termination, output: String) {
        self.termination = termination
        self.output = output
    }

    public var succeeded: Bool { termination == .exited(0) }

    /// Nil on success; otherwise a sentence such as `exited with status 3: <last output line>`.
    public var failureReason: String? {
        let tail = output.split(separator: "\n").last.map { ": " + String($0.prefix(300)) } ?? ""
        switch termination {
        case .exited(0): return nil
        case .exited(let status): return "exited with status \(status)" + tail
        case .signalled(let signal): return "killed by signal \(signal)" + tail
        case .timedOut: return "timed out and was killed" + tail
        case .notStarted(let why): return "could not be started: \(why)"
        }
    }
}

/// Runs external programs. The real implementation is `ProcessCommandRunner`; tests may use another
/// implementation, but the executor never runs anything except through this protocol.
public protocol CommandRunner: Sendable {
    /// Runs `command` to completion (or until its timeout) and reports how it ended. Never throws:
    /// a program that cannot be started is a `.notStarted` result.
    func run(_ command: Command) async -> CommandResult
}
