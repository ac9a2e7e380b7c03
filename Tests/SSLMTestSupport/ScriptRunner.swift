import Foundation
import SSLMCore

#if canImport(Glibc)
    import Glibc
#endif

/// Test support shared by the test targets (SSLMTestSupport): runs a program as an argv (no shell) and
/// waits for it, with stdout and stderr captured in files (daemons a script starts inherit them; pipes would
/// stay open).
///
/// posix_spawn with an empty signal mask and default handlers: the test runner's threads block SIGTERM, and
/// daemons started by a script would inherit that mask and never stop on SIGTERM.
public enum ScriptRunner {
    public struct Outcome: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
        public var succeeded: Bool { status == 0 }
    }

    public static func run(_ arguments: [String]) throws -> Outcome {
        guard !arguments.isEmpty else { throw SSLMError(.invalidArgument, "empty argv") }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent(
            "sslm-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outPath = scratch.appendingPathComponent("out").path
        let errPath = scratch.appendingPathComponent("err").path
        let pid = try spawn(arguments, stdout: outPath, stderr: errPath, append: false, searchPath: true)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let exited = (status & 0x7f) == 0
        let code: Int32 = exited ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        let out = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
        let err = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        return Outcome(status: code, stdout: out, stderr: err)
    }

    /// Starts a long-running program (a daemon in the foreground) with stdout and stderr appended to `log`
    /// (or discarded), and returns at once. Stop it with `stop(_:)`.
    ///
    /// Not Foundation's `Process`: on Linux (Swift 6.3) its exit monitoring of a long-running child holds
    /// up noticing the exit of every child started after it (later `sslm` runs hung as zombies), and its
    /// children inherit the test runner's blocked SIGTERM.
    public static func spawnDaemon(_ arguments: [String], log: String? = nil) throws -> pid_t {
        try spawn(arguments, stdout: log ?? "/dev/null", stderr: nil, append: true, searchPath: false)
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
    /// and daemons started by a script would inherit that mask and never stop on SIGTERM); stdin from
    /// /dev/null, stdout to a file, stderr to another file or the same one.
    private static func spawn(
        _ arguments: [String], stdout: String, stderr: String?, append: Bool, searchPath usePath: Bool
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
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdout, mode, 0o600)
        if let stderr {
            posix_spawn_file_actions_addopen(&actions, 2, stderr, mode, 0o600)
        } else {
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        }
        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var environment = ProcessInfo.processInfo.environment
        if usePath { environment["PATH"] = searchPath.joined(separator: ":") }
        let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { envp.forEach { free($0) } }
        var pid = pid_t()
        let spawned = usePath
            ? posix_spawnp(&pid, program, &actions, &attributes, argv, envp)
            : posix_spawn(&pid, program, &actions, &attributes, argv, envp)
        guard spawned == 0 else {
            throw SSLMError(.ioFailure, "cannot start \(program): \(String(cString: strerror(spawned)))")
        }
        return pid
    }

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
