import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The real `CommandRunner`: Foundation `Process`, argv only (no shell), stdin from /dev/null (or the
/// command's `input`, written from a Dispatch thread), stdout and stderr captured together.
///
/// Guarantees: a program running past its timeout gets SIGTERM, then SIGKILL after `killGrace`, sent to its
/// process group (Foundation starts each child as a group leader), so helpers it started die with it; the
/// result is then `.timedOut`. A bare `argv[0]` is looked up in `searchPath` (default: `PATH`). Output
/// beyond `outputLimit` bytes keeps only the end. Not for interactive programs or for binary output.
public struct ProcessCommandRunner: CommandRunner {
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
        let inputPipe = command.input.map { _ in Pipe() }
        process.standardInput = inputPipe ?? FileHandle.nullDevice
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
            try? inputPipe?.fileHandleForWriting.close()
            return CommandResult(termination: .notStarted("\(executable): \(error.localizedDescription)"), output: "")
        }
        // Our copy of the write end must close, or the reader never sees end of file.
        try? pipe.fileHandleForWriting.close()
        if let inputPipe, let input = command.input {
            try? inputPipe.fileHandleForReading.close()
            let writer = inputPipe.fileHandleForWriting
            // A program that exits without reading everything must fail the write (EPIPE), not kill sslm.
            signal(SIGPIPE, SIG_IGN)
            // A program that does not read its input must not block this run: the write has its own thread.
            DispatchQueue.global().async {
                try? writer.write(contentsOf: Data(input.utf8))
                try? writer.close()
            }
        }
        DispatchQueue.global().async {
            while true {
                let chunk = reader.availableData
                if chunk.isEmpty { break }
                state.append(chunk)
            }
            state.finishOutput()
        }
        // The watchdog runs on a Dispatch timer, not in the cooperative pool: it must fire even when every
        // cooperative thread is busy (CPU-bound key generation elsewhere).
        let pid = process.processIdentifier
        let termAt = DispatchTime.now() + Self.dispatchInterval(command.timeout)
        DispatchQueue.global().asyncAfter(deadline: termAt) {
            guard !exit.hasFired else { return }
            state.markTimedOut()
            kill(-pid, SIGTERM)
            kill(pid, SIGTERM)
        }
        DispatchQueue.global().asyncAfter(deadline: termAt + Self.dispatchInterval(killGrace)) {
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
