import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The real `CommandRunner`: Foundation `Process`, argv only (no shell), stdin from /dev/null (or the
/// command's `input`, from an unlinked temporary file), stdout and
/// stderr captured together.
///
/// Guarantees: a program running past its timeout gets SIGTERM, then SIGKILL after `killGrace`, sent to its
/// process group (Foundation starts each child as a group leader), so helpers it started die with it; the
/// result is then `.timedOut`. A bare `argv[0]` is looked up in `searchPath` (default: `PATH`). Output
/// beyond `outputLimit` bytes keeps only the end. Not for interactive programs or for binary output.
public struct ProcessCommandRunner: CommandRunner {
    /// The timeouts' timers. Not `DispatchQueue.global()`: that is the pool Swift's concurrency runs on, as
    /// many threads as cores, so a timer there waits while every one of them is busy or blocked (a restart
    /// with `restart_timeout = 1` ran its 30 s to the end). A serial queue of its own is served by
    /// libdispatch's overcommit pool, which starts a thread when it needs one.
    static let watchdog = DispatchQueue(label: "sslm.command-timeouts")

    /// Directories searched for a bare program name.
    public var searchPath: [String]
    /// Time between SIGTERM and SIGKILL after a timeout.
    public var killGrace: Duration
    /// Bytes of output kept (the last ones).
    public var outputLimit: Int

    public init(searchPath: [String]? = nil, killGrace: Duration = .seconds(2), outputLimit: Int = 64 * 1024) {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        self.searchPath = searchPath ?? path.split(separator: ":").map(String.init)
        self.killGrace = killGrace
        self.outputLimit = outputLimit
    }

    /// The executable for `name`: itself when it contains `/`, else the first executable in `searchPath`.
    public func resolve(_ name: String) -> String? {
        if name.contains("/") { return access(name, X_OK) == 0 ? name : nil }
        for directory in searchPath where !directory.isEmpty {
            let candidate = directory + "/" + name
            var info = stat()
            if stat(candidate, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, access(candidate, X_OK) == 0 {
                return candidate
            }
        }
        return nil
    }

    public func run(_ command: Command) async -> CommandResult {
        guard let name = command.argv.first, !name.isEmpty else {
            return CommandResult(termination: .notStarted("empty command"), output: "")
        }
        guard let executable = resolve(name) else {
            return CommandResult(
                termination: .notStarted("\(name): no such executable" + (name.contains("/") ? "" : " in PATH")),
                output: "")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = Array(command.argv.dropFirst())
        if !command.environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(command.environment) { _, new in new }
        }
        if let input = command.input {
            guard let handle = Self.inputFile(input) else {
                return CommandResult(termination: .notStarted("cannot prepare standard input"), output: "")
            }
            process.standardInput = handle
        } else {
            process.standardInput = FileHandle.nullDevice
        }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        let state = RunState(limit: outputLimit)
        let reader = pipe.fileHandleForReading
        let exit = ExitSignal()
        process.terminationHandler = { _ in exit.fire() }
        do {
            try process.run()
        } catch {
            try? pipe.fileHandleForWriting.close()
            try? reader.close()
            return CommandResult(termination: .notStarted("\(executable): \(error.localizedDescription)"), output: "")
        }
        // Our copy of the write end must close, or the reader never sees end of file.
        try? pipe.fileHandleForWriting.close()
        // The reader blocks in read(2) until the program exits: on a thread of its own, not on a Dispatch
        // worker. Swift's cooperative pool runs on those workers (as many as cores), so blocked readers
        // there would stall every task, and concurrent runs (sslm check) would go one core at a time.
        let readerThread = Thread {
            while true {
                let chunk = reader.availableData
                if chunk.isEmpty { break }
                state.append(chunk)
            }
            state.finishOutput()
        }
        readerThread.stackSize = 1 << 20
        readerThread.start()
        // The watchdog runs on a queue of its own, not in the cooperative pool: it must fire even when every
        // cooperative thread is busy (CPU-bound key generation, or threads blocked elsewhere).
        let pid = process.processIdentifier
        let termAt = DispatchTime.now() + Self.dispatchInterval(command.timeout)
        Self.watchdog.asyncAfter(deadline: termAt) {
            guard !exit.hasFired else { return }
            state.markTimedOut()
            kill(-pid, SIGTERM)
            kill(pid, SIGTERM)
        }
        Self.watchdog.asyncAfter(deadline: termAt + Self.dispatchInterval(killGrace)) {
            guard !exit.hasFired else { return }
            kill(-pid, SIGKILL)
            kill(pid, SIGKILL)
        }
        await exit.wait()
        // Let the reader drain what is left (bounded: a daemonised grandchild may keep the pipe open).
        for _ in 0..<100 where !state.outputFinished {
            try? await Task.sleep(for: .milliseconds(10))
        }
        let output = state.outputText
        let termination: CommandResult.Termination
        if state.timedOut {
            termination = .timedOut
        } else if process.terminationReason == .uncaughtSignal {
            termination = .signalled(process.terminationStatus)
        } else {
            termination = .exited(process.terminationStatus)
        }
        return CommandResult(termination: termination, output: output)
    }

    /// `bytes` in an unlinked temporary file (mode 0600), open for reading from its start: a program's
    /// standard input that can never block sslm, however little of it the program reads.
    static func inputFile(_ bytes: [UInt8]) -> FileHandle? {
        var template = Array((NSTemporaryDirectory() + "/sslm-input.XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { buffer -> Int32 in
            guard let base = buffer.baseAddress else { return -1 }
            return mkstemp(base)
        }
        guard fd >= 0 else { return nil }
        let path = String(cString: template.map { UInt8(bitPattern: $0) })
        unlink(path)
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { raw -> Int in
                guard let base = raw.baseAddress else { return -1 }
                return write(fd, base + written, raw.count - written)
            }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                close(fd)
                return nil
            }
            written += n
        }
        guard lseek(fd, 0, SEEK_SET) == 0 else {
            close(fd)
            return nil
        }
        return FileHandle(fileDescriptor: fd, closeOnDealloc: true)
    }

    static func dispatchInterval(_ duration: Duration) -> DispatchTimeInterval {
        let (seconds, attoseconds) = duration.components
        guard seconds < 1_000_000_000 else { return .seconds(1_000_000_000) }  // ~31 years: "never"
        return .nanoseconds(Int(max(0, seconds) * 1_000_000_000 + max(0, attoseconds) / 1_000_000_000))
    }
}

/// Output and timeout flag shared between the reader thread, the watchdog and the caller.
private final class RunState: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    private var finished = false
    private var didTimeOut = false
    private let limit: Int

    init(limit: Int) { self.limit = max(0, limit) }

    func append(_ chunk: Data) {
        lock.withLock {
            data.append(chunk)
            if data.count > limit { data.removeFirst(data.count - limit) }
        }
    }

    func finishOutput() { lock.withLock { finished = true } }
    func markTimedOut() { lock.withLock { didTimeOut = true } }
    var outputFinished: Bool { lock.withLock { finished } }
    var timedOut: Bool { lock.withLock { didTimeOut } }
    var outputText: String { lock.withLock { String(decoding: data, as: UTF8.self) } }
}

/// A one-shot event: fired by `Process.terminationHandler`, awaited by `run`.
private final class ExitSignal: @unchecked Sendable {
    private let lock = NSLock()
    private var fired = false
    private var waiter: CheckedContinuation<Void, Never>?

    func fire() {
        let continuation: CheckedContinuation<Void, Never>? = lock.withLock {
            fired = true
            defer { waiter = nil }
            return waiter
        }
        continuation?.resume()
    }

    var hasFired: Bool { lock.withLock { fired } }

    func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumeNow: Bool = lock.withLock {
                if fired { return true }
                waiter = continuation
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }
}
