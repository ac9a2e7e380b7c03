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
/// The file is opened with `O_NOFOLLOW` inside `.sslm/` opened the same way: a symlink there is refused,
/// never written through. Readers stream it line by line and skip lines they cannot decode (a line cut
/// short by a crash). `compact` keeps it bounded (Docs/apply.md "The journal"). Not a log for people
/// (that is the `Logger`).
public final class Journal: @unchecked Sendable {
    /// The journal's name in `.sslm/`.
    public static let fileName = "journal.jsonl"

    public let path: String
    private var descriptor: Int32

    /// Opens (creating, 0600) the journal of `topdir` for appending.
    public init(topdir: String) throws {
        let directory = try StateDirectory.open(topdir: topdir)
        path = directory.entryPath(Self.fileName)
        descriptor = try directory.openFile(Self.fileName, flags: O_WRONLY | O_APPEND | O_CREAT, mode: 0o600)
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

    /// The journal's path in `topdir`.
    public static func path(topdir: String) -> String { StateDirectory.path(topdir: topdir) + "/" + fileName }

    /// Calls `body` with every decodable record of the journal of `topdir`, oldest first, streaming it (memory
    /// does not grow with the file). Nothing when there is no journal; throws when it is a symlink.
    public static func forEachRecord(topdir: String, _ body: (JournalRecord) throws -> Void) throws {
        try forEachRecord(topdir: topdir, matching: { _ in true }, body)
    }

    /// Like `forEachRecord`, decoding only the lines whose plan, action and event pass `filter` (checked
    /// on the raw line, which is much cheaper than decoding it).
    static func forEachRecord(
        topdir: String, matching filter: (JournalLineFields) -> Bool, _ body: (JournalRecord) throws -> Void
    ) throws {
        let decoder = JSONDecoder()
        try BoundedFile.lines(path(topdir: topdir), maximumLineBytes: maximumLineBytes) { line, truncated in
            guard !truncated, !line.isEmpty, let fields = JournalLineFields.scan(line), filter(fields),
                let record = try? decoder.decode(JournalRecord.self, from: Data(line))
            else { return }
            try body(record)
        }
    }

    /// Every decodable record of the journal of `topdir`, oldest first (empty when there is none or it cannot
    /// be read). For tests and small journals; the executor streams (`forEachRecord`).
    public static func records(topdir: String) -> [JournalRecord] {
        var result: [JournalRecord] = []
        try? forEachRecord(topdir: topdir) { result.append($0) }
        return result
    }

    /// Longest line the readers accept (longer ones are skipped: sslm never writes them).
    static let maximumLineBytes = 1 << 20
}
