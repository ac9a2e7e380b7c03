import Foundation
import SSLMCore

/// Reads `<topdir>/.sslm/journal.jsonl` for deployment actions whose last attempt did not succeed.
///
/// Certificates, production and TLSA files show their own state on disk; a copy to a server, a
/// restart or a DNS refresh does not. So the journal is their state: an action of those kinds whose
/// last record is `failed`, `skipped` or a `start` without an end (the run was killed) is pending and the
/// planner plans it again. Reads only the journal's last 4 MiB (older history cannot be pending: every
/// run that deploys records the outcome).
public enum PendingDeployment {
    private struct Record: Decodable {
        let action: String?
        let event: String
    }

    static func read(topdir: String) -> [String] {
        let path = topdir + "/.sslm/journal.jsonl"
        guard let handle = FileHandle(forReadingAtPath: path) else { return [] }
        defer { try? handle.close() }
        let limit: UInt64 = 4 << 20
        let size = (try? handle.seekToEnd()) ?? 0
        try? handle.seek(toOffset: size > limit ? size - limit : 0)
        guard let data = try? handle.readToEnd() else { return [] }
        var last: [String: String] = [:]
        let decoder = JSONDecoder()
        for line in data.split(separator: UInt8(ascii: "\n")) {
            guard let record = try? decoder.decode(Record.self, from: Data(line)), let action = record.action,
                ActionID(action)?.journalIsState == true
            else { continue }
            last[action] = record.event
        }
        return last.filter { ["failed", "skipped", "start"].contains($0.value) }.keys.sorted()
    }
}
