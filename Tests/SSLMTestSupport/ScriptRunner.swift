import Foundation
import SSLMCore

#if canImport(Glibc)
    import Glibc
#endif

/// The one process runner of the test targets (SSLMTestSupport): runs a program as an argv (no shell) and
/// waits for it, with stdout and stderr captured in files (daemons a script starts inherit them; pipes would
/// stay open, and no reader thread is parked on a Dispatch queue while the child runs).
///
/// posix_spawn with an empty signal mask and default handlers: the test runner's threads block SIGTERM, and
/// daemons started by a script would inherit that mask and never stop on SIGTERM.
public enum ScriptRunner {
    public struct Outcome: Sendable {
        /// The exit status, or 128 + the signal that ended the program.
        public var status: Int32
        /// The signal that ended the program, nil when it exited.
        public var signal: Int32?
        public var stdoutBytes: [UInt8]
        public var stderr: String
        public var stdout: String { String(decoding: stdoutBytes, as: UTF8.self) }
        public var succeeded: Bool { status == 0 }
        /// Ended by SIGKILL.
        public var killed: Bool { signal == SIGKILL }
    }

    /// Runs `arguments` to the end.
    /// - `environment`: entries set on top of this process's environment; `unsetting`: names removed.
    /// - `stdin`: the program's standard input (else /dev/null).
    /// - `combinedOutput`: stderr goes to stdout (one stream in order; `stderr` stays empty).
    /// - `searchPath`: PATH becomes `searchPath` (PATH plus the system directories) and `arguments[0]` is
    ///   looked up in it; without it PATH is left alone and `arguments[0]` must be a path.
    public static func run(
        _ arguments: [String], environment: [String: String] = [:], unsetting: [String] = [], stdin: Data? = nil,
        workingDirectory: String? = nil, combinedOutput: Bool = false, searchPath: Bool = true
    ) throws -> Outcome {
        try start(
            arguments, environment: environment, unsetting: unsetting, stdin: stdin,
            workingDirectory: workingDirectory, combinedOutput: combinedOutput, searchPath: searchPath
        ).wait()
    }

    /// Starts `arguments` like `run` and returns at once; `wait()` collects the outcome.
    public static func start(
        _ arguments: [String], environment: [String: String] = [:], unsetting: [String] = [], stdin: Data? = nil,
        workingDirectory: String? = nil, combinedOutput: Bool = false, searchPath: Bool = true
    ) throws -> RunningProgram {
        guard !arguments.isEmpty else { throw SSLMError(.invalidArgument, "empty argv") }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent(
            "sslm-run-\(UUID().uuidString)"
        ).path
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        do {
            var input = "/dev/null"
            if let stdin {
                input = scratch + "/in"
                try stdin.write(to: URL(fileURLWithPath: input))
            }
            var env = ProcessInfo.processInfo.environment
            if searchPath { env["PATH"] = Self.searchPath.joined(separator: ":") }
            for name in unsetting { env.removeValue(forKey: name) }
            for (key, value) in environment { env[key] = value }
            let pid = try spawn(
                arguments, stdin: input, stdout: scratch + "/out", stderr: combinedOutput ? nil : scratch + "/err",
                append: false, searchPath: searchPath, environment: env, workingDirectory: workingDirectory)
            return RunningProgram(pid: pid, scratch: scratch)
        } catch {
            try? FileManager.default.removeItem(atPath: scratch)
            throw error
        }
    }

    /// A program started by `start`: wait for it, or signal it first.
    public final class RunningProgram: @unchecked Sendable {
        public let pid: pid_t
        private let scratch: String
        private var status: Int32?

        init(pid: pid_t, scratch: String) {
            self.pid = pid
            self.scratch = scratch
        }

        /// Whether it still runs (reaps it when it has ended).
        public var isRunning: Bool {
            guard status == nil else { return false }
            var raw: Int32 = 0
            guard waitpid(pid, &raw, WNOHANG) == pid else { return true }
            status = raw
            return false
        }

        /// Sends `signal` unless it has ended.
        public func signal(_ signal: Int32) {
            if isRunning { kill(pid, signal) }
        }

        /// Waits for the end, collects the output and removes the scratch files.
        public func wait() -> Outcome {
            if status == nil {
                var raw: Int32 = 0
                while waitpid(pid, &raw, 0) == -1 && errno == EINTR {}
                status = raw
            }
            let raw = status ?? 0
            let exited = (raw & 0x7f) == 0
            let out = FileManager.default.contents(atPath: scratch + "/out").map { Array($0) } ?? []
            let err = (try? String(contentsOfFile: scratch + "/err", encoding: .utf8)) ?? ""
            try? FileManager.default.removeItem(atPath: scratch)
            return Outcome(
                status: exited ? (raw >> 8) & 0xff : 128 + (raw & 0x7f), signal: exited ? nil : raw & 0x7f,
                stdoutBytes: out, stderr: err)
        }
    }

    /// Starts a long-running program (a daemon in the foreground) with stdout and stderr appended to `log`
    /// (or discarded), and returns at once. Stop it with `stop(_:)`.
    ///
    /// Not Foundation's `Process`: on Linux (Swift 6.3) its exit monitoring of a long-running child holds
    /// up noticing the exit of every child started after it (later `sslm` runs hung as zombies), and its
    /// children inherit the test runner's blocked SIGTERM.
    public static func spawnDaemon(_ arguments: [String], log: String? = nil) throws -> pid_t {
        try spawn(
            arguments, stdin: "/dev/null", stdout: log ?? "/dev/null", stderr: nil, append: true, searchPath: false,
            environment: ProcessInfo.processInfo.environment, workingDirectory: nil)
    }

    /// Whether `pid` (a child) is still running; reaps it when it has exited.
    public static func isRunning(_ pid: pid_t) -> Bool {
        var status: Int32 = 0
        return waitpid(pid, &status, WNOHANG) == 0
    }

    /// SIGTERM, then SIGKILL after `graceSeconds`; reaps the process.
    public static func stop(_ pid: pid_t, graceSeconds: Double = 5) {
        guard pid > 0, isRunning(pid) else { return }
        kill(pid, SIGTERM)
        for _ in 0..<max(1, Int(graceSeconds * 10)) {
            if !isRunning(pid) { return }
            usleep(100_000)
        }
        kill(pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
    }

    /// posix_spawn with an empty signal mask and default handlers (the test runner's threads block SIGTERM,
    /// and daemons started by a script would inherit that mask and never stop on SIGTERM); stdin from a
    /// file, stdout to a file, stderr to another file or the same one.
    private static func spawn(
        _ arguments: [String], stdin: String, stdout: String, stderr: String?, append: Bool, searchPath usePath: Bool,
        environment: [String: String], workingDirectory: String?
    ) throws -> pid_t {
        guard let program = arguments.first else { throw SSLMError(.invalidArgument, "empty argv") }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGCHLD, SIGQUIT] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        let mode = O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC)
        posix_spawn_file_actions_addopen(&actions, 0, stdin, O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdout, mode, 0o600)
        if let stderr {
            posix_spawn_file_actions_addopen(&actions, 2, stderr, mode, 0o600)
        } else {
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        }
        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        if let workingDirectory {
            guard let addChdir = Self.addChdir else {
                throw SSLMError(.ioFailure, "posix_spawn_file_actions_addchdir_np is missing (glibc < 2.29)")
            }
            let result = addChdir(&actions, workingDirectory)
            guard result == 0 else {
                throw SSLMError(.ioFailure, "cannot run in \(workingDirectory): \(String(cString: strerror(result)))")
            }
        }
        let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { envp.forEach { free($0) } }
        var pid = pid_t()
        let spawned =
            usePath
            ? posix_spawnp(&pid, program, &actions, &attributes, argv, envp)
            : posix_spawn(&pid, program, &actions, &attributes, argv, envp)
        guard spawned == 0 else {
            throw SSLMError(.ioFailure, "cannot start \(program): \(String(cString: strerror(spawned)))")
        }
        return pid
    }

    /// glibc's `posix_spawn_file_actions_addchdir_np` (2.29), which the Glibc module does not export: the child
    /// changes directory, the test runner (whose other tests run concurrently) does not.
    private typealias AddChdir =
        @convention(c) (
            UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>
        ) -> Int32
    private static let addChdir: AddChdir? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addchdir_np")
        else { return nil }
        return unsafeBitCast(symbol, to: AddChdir.self)
    }()

    /// Whether `tool` is an executable in PATH (or an absolute path).
    public static func hasTool(_ tool: String) -> Bool {
        if tool.hasPrefix("/") { return FileManager.default.isExecutableFile(atPath: tool) }
        return searchPath.contains { access("\($0)/\(tool)", X_OK) == 0 }
    }

    /// PATH plus the standard system directories (a test runner may start with a reduced PATH).
    public static var searchPath: [String] {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        var directories = path.split(separator: ":").map(String.init)
        for standard in ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"]
        where !directories.contains(standard) {
            directories.append(standard)
        }
        return directories
    }
}
