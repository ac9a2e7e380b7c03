import Foundation
import SSLMCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One line of `<topdir>/.sslm/journal.jsonl`.
///
/// `plan` is the plan's digest (`ApplyReport.planDigest`); `action` is nil for the records that open and
/// close a run (`event` `begin` / `end`). `detail` holds an action's output (a db directory name) or a
/// failure reason. Never holds private key material.
public struct JournalRecord: Sendable, Hashable, Codable {
    /// What happened.
    public enum Event: String, Sendable, Hashable, Codable {
        case begin, start, ok, failed, skipped, end
    }

    /// RFC 3339 UTC wall-clock time of the record (not the plan's injected time).
    public var time: String
    public var plan: String
    public var action: String?
    public var event: Event
    public var detail: String?

    public init(time: String, plan: String, action: String?, event: Event, detail: String?) {
        self.time = time
        self.plan = plan
        self.action = action
        self.event = event
        self.detail = detail
    }
}

/// The apply journal: JSON lines appended to `<topdir>/.sslm/journal.jsonl`, each fsync'ed before the
/// executor goes on, so after a crash it says which actions of a plan had finished.
///
/// Readers skip lines they cannot decode (a line cut short by a crash). Not a log for people (that is the
/// `Logger`), and never rotated by sslm yet.
public final class Journal: @unchecked Sendable {
    public let path: String
    private var descriptor: Int32

    /// Opens (creating, 0600) the journal of `topdir` for appending.
    public init(topdir: String) throws {
        let directory = try StateDirectory.ensure(topdir: topdir)
        path = directory + "/journal.jsonl"
        descriptor = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw SSLMError(.ioFailure, "cannot open the journal \(path): \(String(cString: strerror(errno)))")
        }
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }
    }

    /// Appends one record and fsyncs it.
    public func append(_ record: JournalRecord) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var line = try encoder.encode(record)
        line.append(UInt8(ascii: "\n"))
        var written = 0
        while written < line.count {
            let n = line.withUnsafeBytes { raw in
                write(descriptor, raw.baseAddress.map { $0 + written }, line.count - written)
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw SSLMError(.ioFailure, "cannot write the journal \(path): \(String(cString: strerror(errno)))")
            }
            written += n
        }
        guard fsync(descriptor) == 0 else {
            throw SSLMError(.ioFailure, "cannot fsync the journal \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// Every decodable record of the journal of `topdir`, oldest first (empty when there is none).
    public static func records(topdir: String) -> [JournalRecord] {
        guard let data = FileManager.default.contents(atPath: StateDirectory.path(topdir: topdir) + "/journal.jsonl")
        else { return [] }
        let decoder = JSONDecoder()
        return data.split(separator: UInt8(ascii: "\n")).compactMap { line in
            try? decoder.decode(JournalRecord.self, from: Data(line))
        }
    }
}
