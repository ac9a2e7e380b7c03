import Foundation
import Logging
import SSLMCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `<logdir>/sslm`: a log file rotated like ssl-mgr's (at 204,800 bytes, keeping `sslm.1` … `sslm.4`),
/// one line per message: `YYYY-mm-dd HH:MM:SS  <level> <message> [metadata]`.
///
/// Thread-safe; writes are appended and flushed per line. Never given private key material (no
/// library logs any). The file is opened with `O_NOFOLLOW`: a symlink at `<logdir>/sslm` is refused
/// (`SSLMError(.symbolicLink)`), never written through; rotation renames entries, which moves links
/// rather than following them.
final class RotatingLogFile: @unchecked Sendable {
    let path: String
    let maximumBytes: Int
    let backups: Int
    private let lock = NSLock()
    private var handle: FileHandle?
    private var size: Int = 0

    init(path: String, maximumBytes: Int = 204_800, backups: Int = 4) throws {
        self.path = path
        self.maximumBytes = maximumBytes
        self.backups = backups
        try open()
    }

    private func open() throws {
        let fd = openForAppending(path)
        guard fd >= 0 else {
            let failure = errno
            if failure == ELOOP { throw ConfinedDirectory.refusal(path, target: BoundedFile.linkTarget(path)) }
            throw SSLMError(.ioFailure, "cannot open \(path): \(String(cString: strerror(failure)))")
        }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw SSLMError(.ioFailure, "\(path) is not a regular file")
        }
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        size = Int(info.st_size)
        self.handle = handle
    }

    func write(_ line: String) {
        lock.lock()
        defer { lock.unlock() }
        let data = Data((line + "\n").utf8)
        if size + data.count > maximumBytes && size > 0 { rotate() }
        guard let handle else { return }
        do {
            try handle.write(contentsOf: data)
            size += data.count
        } catch {
            // A full disk must not stop a run; the journal still records everything.
        }
    }

    private func rotate() {
        try? handle?.close()
        handle = nil
        let fm = FileManager.default
        try? fm.removeItem(atPath: "\(path).\(backups)")
        if backups > 1 {
            for index in stride(from: backups - 1, through: 1, by: -1) where fm.fileExists(atPath: "\(path).\(index)") {
                try? fm.moveItem(atPath: "\(path).\(index)", toPath: "\(path).\(index + 1)")
            }
        }
        try? fm.moveItem(atPath: path, toPath: "\(path).1")
        try? open()
    }
}

/// A swift-log handler writing to a `RotatingLogFile`.
struct FileLogHandler: LogHandler {
    let file: RotatingLogFile
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let (level, message) = (event.level, event.message)
        var all = metadata
        if let explicit = event.metadata { all.merge(explicit) { _, new in new } }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        var text = formatter.string(from: Date()) + "  " + level.rawValue + " " + message.description
        if !all.isEmpty {
            text +=
                " [" + all.keys.sorted().map { "\($0)=\(all[$0].map { "\($0)" } ?? "")" }.joined(separator: " ") + "]"
        }
        self.file.write(text)
    }
}

/// Standard error, for warnings and errors a person running sslm must see.
struct StandardErrorLogHandler: LogHandler {
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let (level, message) = (event.level, event.message)
        var all = metadata
        if let explicit = event.metadata { all.merge(explicit) { _, new in new } }
        let subject = all["action.id"].map { "\($0): " } ?? ""
        Console.error("\(level.rawValue): \(subject)\(message)")
    }
}

/// Builds the logger of a run: the log file under `[globals] logdir` (created 0750 if needed) at info
/// level, and standard error at warning level (info with -v). If the log directory cannot be used, a
/// warning says so once and the run goes on without a file — except when the log file is a symlink: that
/// is an error (`SSLMError(.symbolicLink)`), the run stops before anything is written.
enum RunLogger {
    static func make(logDirectory: String, verbose: Bool) throws -> Logger {
        var handlers: [any LogHandler] = [StandardErrorLogHandler(logLevel: verbose ? .info : .warning)]
        do {
            try FileManager.default.createDirectory(
                atPath: logDirectory, withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o750])
            let file = try RotatingLogFile(path: logDirectory + "/sslm")
            handlers.append(FileLogHandler(file: file))
        } catch let error as SSLMError where error.code == .symbolicLink {
            throw error
        } catch {
            Console.error(
                "warning: cannot write the log file \(logDirectory)/sslm (\(error.localizedDescription)); logging to standard error only"
            )
        }
        return Logger(label: "sslm") { _ in MultiplexLogHandler(handlers) }
    }
}

/// `open(2)` for appending, creating (0640) and never following a final symlink.
private func openForAppending(_ path: String) -> Int32 {
    open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0o640)
}
