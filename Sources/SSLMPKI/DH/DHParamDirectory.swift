import Foundation
import SSLMCore

/// `sslm dhparam`'s file rules (spec §1.7, with the crash fixed): for each directory, write the requested
/// DH parameter files into `<dir>/dh/` and keep `dh/dhparam.pem` pointing at the preferred one.
///
/// Rules: `dh/` is created with mode 0750. Named groups (`dh-ffdheN.pem`) are written when absent (they
/// never age: the primes are fixed). Numeric sizes (`dh<N>.pem`) are generated when absent, older than
/// `maxAgeDays` (mtime, relative to `now`), or with `force`. `dhparam.pem` is a relative symlink to the
/// first numeric size of the list if there is one (ssl-mgr's rule), otherwise to the first named group of
/// the list — `dh-ffdhe8192.pem` for the default list; it is (re)pointed whenever it is missing or points
/// elsewhere. Only the requested files are written (ssl-mgr always added ffdhe8192/6144/4096). With
/// `subdirectories`, each sub-directory of each input directory is processed instead, skipping one named
/// `ca` (any case), hidden ones, and `dh`. Missing input directories are skipped with a warning.
public struct DHParamDirectory: Sendable {
    /// ssl-mgr's default `--keys`.
    public static let defaultKeys: [DHGroup] = [
        .named(.ffdhe8192), .named(.ffdhe6144), .named(.ffdhe4096), .named(.ffdhe3072), .named(.ffdhe2048),
    ]
    public static let defaultMaxAgeDays = 120
    public static let linkName = "dhparam.pem"

    /// What happened to one file.
    public struct Event: Sendable, Hashable, CustomStringConvertible {
        public enum Kind: String, Sendable, Hashable {
            case written, regenerated, kept, linked, skipped
        }
        public var kind: Kind
        public var path: String
        public var detail: String

        public var description: String { "\(kind.rawValue): \(path)" + (detail.isEmpty ? "" : " (\(detail))") }
    }

    public var groups: [DHGroup]
    public var maxAgeDays: Int
    public var force: Bool
    public var subdirectories: Bool

    public init(
        groups: [DHGroup] = defaultKeys, maxAgeDays: Int = defaultMaxAgeDays, force: Bool = false,
        subdirectories: Bool = false
    ) {
        var unique: [DHGroup] = []
        for group in groups where !unique.contains(group) { unique.append(group) }
        self.groups = unique
        self.maxAgeDays = maxAgeDays
        self.force = force
        self.subdirectories = subdirectories
    }

    /// Parses a comma-separated `--keys` list; `.invalidArgument` naming the bad item.
    public static func parseKeys(_ list: String) throws -> [DHGroup] {
        let items = list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !items.isEmpty else { throw SSLMError(.invalidArgument, "--keys is empty") }
        return try items.map { item in
            guard let group = DHGroup(item: item) else {
                throw SSLMError(
                    .invalidArgument,
                    "--keys: \"\(item)\" is neither an RFC 7919 group (ffdhe2048, ffdhe3072, ffdhe4096, ffdhe6144, "
                        + "ffdhe8192) nor a size in bits (\(DHGroup.minimumGeneratedBits)–\(DHGroup.maximumGeneratedBits))"
                )
            }
            return group
        }
    }

    /// The group `dhparam.pem` points at.
    public var linkTarget: DHGroup? {
        groups.first { if case .generated = $0 { return true } else { return false } } ?? groups.first
    }

    /// Processes every input directory; returns the events and warnings. Generation errors throw.
    public func run(directories: [String], now: Date) throws -> (events: [Event], warnings: [String]) {
        var events: [Event] = []
        var warnings: [String] = []
        let fm = FileManager.default
        for input in directories {
            var isDirectory: ObjCBool = false
            guard fm.fileExists(atPath: input, isDirectory: &isDirectory), isDirectory.boolValue else {
                warnings.append("\(input): no such directory, skipped")
                continue
            }
            var targets: [String] = []
            if subdirectories {
                let names = try (fm.contentsOfDirectory(atPath: input)).sorted()
                for name in names where name.lowercased() != "ca" && name != "dh" && !name.hasPrefix(".") {
                    var sub: ObjCBool = false
                    let path = input + "/" + name
                    if fm.fileExists(atPath: path, isDirectory: &sub), sub.boolValue { targets.append(path) }
                }
            } else {
                targets = [input]
            }
            for target in targets {
                events += try update(directory: target, now: now)
            }
        }
        return (events, warnings)
    }

    /// Processes one directory (no sub-directory handling).
    public func update(directory: String, now: Date) throws -> [Event] {
        let dhDirectory = directory + "/dh"
        let fm = FileManager.default
        if !fm.fileExists(atPath: dhDirectory) {
            do {
                try fm.createDirectory(
                    atPath: dhDirectory, withIntermediateDirectories: false,
                    attributes: [.posixPermissions: 0o750])
            } catch {
                throw SSLMError(.ioFailure, "\(dhDirectory): cannot create directory", underlying: error)
            }
        }
        var events: [Event] = []
        for group in groups {
            let path = dhDirectory + "/" + group.fileName
            let exists = fm.fileExists(atPath: path)
            var reason = ""
            switch group {
            case .named(let named):
                if exists && !force {
                    events.append(Event(kind: .kept, path: path, detail: "fixed RFC 7919 group"))
                    continue
                }
                try AtomicFile.write(text: DHParameters.pem(for: named), to: path)
            case .generated(let bits):
                if exists && !force {
                    let age = Self.ageDays(path: path, now: now)
                    if let age, age <= Double(maxAgeDays) {
                        events.append(Event(kind: .kept, path: path, detail: "\(Int(age)) days old"))
                        continue
                    }
                    reason = age.map { "\(Int($0)) days old, limit \(maxAgeDays)" } ?? "age unknown"
                }
                try AtomicFile.write(text: DHParameters.generatePEM(bits: bits), to: path)
            }
            if force && exists { reason = "forced" }
            events.append(Event(kind: exists ? .regenerated : .written, path: path, detail: reason))
        }
        if let target = linkTarget {
            let linkPath = dhDirectory + "/" + Self.linkName
            let current = try? fm.destinationOfSymbolicLink(atPath: linkPath)
            if current != target.fileName {
                try AtomicFile.symlink(target: target.fileName, at: linkPath)
                events.append(Event(kind: .linked, path: linkPath, detail: "-> \(target.fileName)"))
            }
        }
        return events
    }

    static func ageDays(path: String, now: Date) -> Double? {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
            let modified = attributes[.modificationDate] as? Date
        else { return nil }
        return now.timeIntervalSince(modified) / 86_400
    }
}
