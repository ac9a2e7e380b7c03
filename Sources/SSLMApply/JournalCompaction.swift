import Foundation
import SSLMCore
import SSLMObserve

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The three fields of a journal line that decide what is kept and read: plan digest, action id, event.
///
/// `scan` reads them from the raw bytes without a JSON decoder when the line holds no backslash (then no
/// string can hold a quote, so `"plan":"` can only be the key) — sslm's own lines, sorted keys, no spaces;
/// any other line goes through `JSONDecoder`. Lines that are not records give nil.
struct JournalLineFields: Decodable, Equatable {
    var plan: String
    var action: String?
    var event: String

    static func scan(_ line: ArraySlice<UInt8>) -> JournalLineFields? {
        if !line.contains(UInt8(ascii: "\\")), let plan = value(of: planKey, in: line),
            let event = value(of: eventKey, in: line)
        {
            return JournalLineFields(plan: plan, action: value(of: actionKey, in: line), event: event)
        }
        return try? JSONDecoder().decode(JournalLineFields.self, from: Data(line))
    }

    private static let planKey = Array(#""plan":""#.utf8)
    private static let eventKey = Array(#""event":""#.utf8)
    private static let actionKey = Array(#""action":""#.utf8)

    private static func value(of key: [UInt8], in line: ArraySlice<UInt8>) -> String? {
        guard let start = find(key, in: line) else { return nil }
        let from = start + key.count
        guard let end = line[from...].firstIndex(of: UInt8(ascii: "\"")) else { return nil }
        return String(decoding: line[from..<end], as: UTF8.self)
    }

    private static func find(_ key: [UInt8], in line: ArraySlice<UInt8>) -> Int? {
        guard let first = key.first, line.count >= key.count else { return nil }
        var index = line.startIndex
        let last = line.endIndex - key.count
        while index <= last {
            guard let found = line[index...last].firstIndex(of: first) else { return nil }
            if line[found..<(found + key.count)].elementsEqual(key) { return found }
            index = found + 1
        }
        return nil
    }
}

/// Keeps `<topdir>/.sslm/journal.jsonl` bounded, so that apply time does not grow with history.
///
/// What each reader of the journal needs, and so what is kept (in the original order):
/// - every record of the `recentPlans` most recent plan digests: resuming the same plan (`ok` actions are
///   not repeated, `create_next`'s db directory is reused), and what a person reads;
/// - for every ACME order (`…/next/order`), its newest `ok` record: a later run reopens the order from it;
/// - for every copy, restart, `post_copy` and DNS refresh (`ActionID.journalIsState`), its last record:
///   that is its state, and a failed or interrupted one is planned again (`retry`).
/// Everything else (older plans' records, lines that cannot be decoded) is dropped. The new file is written
/// beside the journal, fsync'ed and renamed over it, and the directory fsync'ed: after a crash the journal
/// is the old or the new one. Must run under the apply lock (`Executor.apply` calls it), since it replaces
/// the file the executor appends to. Never follows a symlink.
public enum JournalCompaction {
    /// When to compact and how much history to keep.
    public struct Policy: Sendable, Hashable {
        /// Plans (digests) whose records are all kept.
        public var recentPlans: Int
        /// A smaller journal is left as it is (no reading, no rewriting).
        public var minimumBytes: Int

        public init(recentPlans: Int = 20, minimumBytes: Int = 1 << 20) {
            self.recentPlans = recentPlans
            self.minimumBytes = minimumBytes
        }
    }

    /// What a compaction did.
    public struct Outcome: Sendable, Hashable {
        public var linesBefore: Int
        public var linesAfter: Int
        public var bytesBefore: Int
        public var bytesAfter: Int
    }

    /// Compacts the journal of `topdir` when it is at least `policy.minimumBytes` and compacting drops at
    /// least half of its lines (otherwise the journal is left as it is, so a large site with much recent
    /// history does not rewrite it every run). Returns nil when nothing was rewritten.
    @discardableResult
    public static func compact(topdir: String, policy: Policy = Policy()) throws -> Outcome? {
        let directory = try StateDirectory.open(topdir: topdir)
        let name = Journal.fileName
        let path = directory.entryPath(name)
        try directory.refuseSymlink(name)
        var info = stat()
        guard fstatat(directory.descriptor, name, &info, AT_SYMLINK_NOFOLLOW) == 0,
            Int(info.st_size) >= policy.minimumBytes
        else { return nil }

        // Pass 1: which lines to keep.
        var planIDs: [String: Int32] = [:]
        var planLastLine: [Int] = []
        var linePlans: [Int32] = []
        var lastDeployment: [String: Int] = [:]
        var newestOrder: [String: Int] = [:]
        try BoundedFile.lines(path, maximumLineBytes: Journal.maximumLineBytes) { line, truncated in
            let index = linePlans.count
            guard !truncated, let fields = JournalLineFields.scan(line) else {
                linePlans.append(-1)
                return
            }
            let id: Int32
            if let known = planIDs[fields.plan] {
                id = known
                planLastLine[Int(id)] = index
            } else {
                id = Int32(planLastLine.count)
                planIDs[fields.plan] = id
                planLastLine.append(index)
            }
            linePlans.append(id)
            guard let action = fields.action else { return }
            let parsed = ActionID(action)
            if parsed?.journalIsState == true { lastDeployment[action] = index }
            if fields.event == JournalRecord.Event.ok.rawValue, parsed?.isACMEOrder == true {
                newestOrder[action] = index
            }
        }
        let recent = Set(
            planLastLine.indices.sorted { planLastLine[$0] > planLastLine[$1] }.prefix(policy.recentPlans)
                .map { Int32($0) })
        let facts = Set(lastDeployment.values).union(newestOrder.values)
        var keep = [Bool](repeating: false, count: linePlans.count)
        var kept = 0
        for (index, plan) in linePlans.enumerated() where recent.contains(plan) || facts.contains(index) {
            keep[index] = true
            kept += 1
        }
        guard kept * 2 <= linePlans.count else { return nil }

        // Pass 2: write the kept lines beside the journal, then rename over it.
        let prefix = "." + name + ".compact-"
        for leftover in directory.names() where leftover.hasPrefix(prefix) {
            unlinkat(directory.descriptor, leftover, 0)
        }
        var generator = SystemRandomNumberGenerator()
        let temporary = prefix + String(generator.next() & 0xFFFF_FFFF, radix: 16)
        let fd = try directory.openFile(temporary, flags: O_WRONLY | O_CREAT | O_EXCL, mode: 0o600)
        var installed = false
        defer { if !installed { unlinkat(directory.descriptor, temporary, 0) } }
        var bytesAfter = 0
        do {
            defer { close(fd) }
            var buffer: [UInt8] = []
            buffer.reserveCapacity(1 << 20)
            var index = 0
            func flush() throws {
                var written = 0
                while written < buffer.count {
                    let n = buffer.withUnsafeBytes { raw -> Int in
                        guard let base = raw.baseAddress else { return -1 }
                        return write(fd, base + written, raw.count - written)
                    }
                    if n < 0 {
                        if errno == EINTR { continue }
                        throw posixFailure("cannot write \(directory.entryPath(temporary))")
                    }
                    written += n
                }
                bytesAfter += buffer.count
                buffer.removeAll(keepingCapacity: true)
            }
            try BoundedFile.lines(path, maximumLineBytes: Journal.maximumLineBytes) { line, _ in
                defer { index += 1 }
                guard index < keep.count, keep[index] else { return }
                buffer += line
                buffer.append(UInt8(ascii: "\n"))
                if buffer.count >= 1 << 20 { try flush() }
            }
            try flush()
            guard fsync(fd) == 0 else {
                throw posixFailure("cannot fsync \(directory.entryPath(temporary))")
            }
        }
        guard renameat(directory.descriptor, temporary, directory.descriptor, name) == 0 else {
            throw posixFailure("cannot rename \(directory.entryPath(temporary)) to \(path)")
        }
        installed = true
        try directory.sync()
        return Outcome(
            linesBefore: linePlans.count, linesAfter: kept, bytesBefore: Int(info.st_size), bytesAfter: bytesAfter)
    }
}

private func posixFailure(_ what: String) -> SSLMError {
    SSLMError(.ioFailure, "\(what): \(String(cString: strerror(errno)))")
}
