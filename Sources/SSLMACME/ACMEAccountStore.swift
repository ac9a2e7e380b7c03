import Crypto
import SSLMCore
import Foundation

/// ACME accounts on disk, one per (directory URL, contact email), under a directory the caller gives
/// (sslm passes `<topdir>/.sslm/acme/accounts`).
///
/// Each account is a subdirectory named by the first 16 hex digits of SHA-256("url\nemail"), holding
/// `key.pem` (PKCS#8, mode 0600) and `account.json` (url, directory, contact, created). Directories are
/// 0700. Writes are atomic (temporary file, fsync, rename). Not for concurrent writers of the same account.
public struct ACMEAccountStore: Sendable {
    public var root: String

    public init(root: String) { self.root = root }

    /// What `account.json` holds.
    public struct Record: Codable, Sendable, Hashable {
        public var url: String
        public var directory: String
        public var contact: String
        public var created: String
    }

    /// The subdirectory of one account.
    public func accountDirectory(directoryURL: String, email: String) -> String {
        let digest = SHA256.hash(data: Array("\(directoryURL)\n\(email)".utf8))
        let hex = digest.map { String(format: "%02x", $0) }.joined()
        return (root as NSString).appendingPathComponent(String(hex.prefix(16)))
    }

    /// The account key (created and stored when there is none) and the recorded account URL, if any.
    public func key(directoryURL: String, email: String) throws -> (ACMEAccountKey, accountURL: String?) {
        let dir = accountDirectory(directoryURL: directoryURL, email: email)
        let keyPath = (dir as NSString).appendingPathComponent("key.pem")
        if FileManager.default.fileExists(atPath: keyPath) {
            let pem: String
            do {
                pem = String(decoding: try BoundedFile.read(keyPath, limit: .pem, followLinks: false), as: UTF8.self)
            } catch {
                throw ACMEError(.invalidInput, "cannot read the ACME account key \(keyPath): \(error)")
            }
            let key: ACMEAccountKey
            do {
                key = try ACMEAccountKey(pem: pem)
            } catch var error as ACMEError {
                error.message = "\(keyPath): " + error.message
                throw error
            }
            return (key, try readRecord(dir: dir)?.url)
        }
        let key = ACMEAccountKey.generate()
        try makeDirectory(dir)
        try Self.atomicWrite(Array(key.pkcs8PEM.utf8), to: keyPath, mode: 0o600)
        return (key, nil)
    }

    /// Records the account URL the server gave for this (directory, email).
    public func record(directoryURL: String, email: String, accountURL: String) throws {
        let dir = accountDirectory(directoryURL: directoryURL, email: email)
        try makeDirectory(dir)
        let created = ISO8601DateFormatter().string(from: Date())
        let record = Record(
            url: accountURL, directory: directoryURL, contact: email,
            created: (try? readRecord(dir: dir))??.created ?? created)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data: Data
        do { data = try encoder.encode(record) } catch {
            throw ACMEError(.invalidInput, "cannot encode the account record: \(error)")
        }
        try Self.atomicWrite(
            Array(data) + [0x0A], to: (dir as NSString).appendingPathComponent("account.json"),
            mode: 0o600)
    }

    private func readRecord(dir: String) throws -> Record? {
        let path = (dir as NSString).appendingPathComponent("account.json")
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        let data: Data
        do {
            data = Data(try BoundedFile.read(path, limit: .state, followLinks: false))
        } catch {
            throw ACMEError(.invalidInput, "cannot read the account record: \(error)")
        }
        do {
            return try JSONDecoder().decode(Record.self, from: data)
        } catch {
            throw ACMEError(
                .invalidInput, "\(path) is not a valid account record (\(error)): remove it to register again")
        }
    }

    private func makeDirectory(_ dir: String) throws {
        do {
            try FileManager.default.createDirectory(
                atPath: dir, withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700])
            try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: dir)
        } catch {
            throw ACMEError(.invalidInput, "cannot create the account directory \(dir): \(error)")
        }
    }

    /// Writes `bytes` to a temporary file next to `path`, fsyncs it, renames it over `path`, fsyncs the directory.
    static func atomicWrite(_ bytes: [UInt8], to path: String, mode: mode_t) throws {
        let dir = (path as NSString).deletingLastPathComponent
        let temp = (dir as NSString).appendingPathComponent(".\((path as NSString).lastPathComponent).tmp-\(getpid())")
        let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode)
        guard fd >= 0 else {
            throw ACMEError(.invalidInput, "cannot create \(temp): \(String(cString: strerror(errno)))")
        }
        var ok = fchmod(fd, mode) == 0
        var written = 0
        while ok && written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n <= 0 { ok = false } else { written += n }
        }
        ok = ok && fsync(fd) == 0
        let failure = String(cString: strerror(errno))
        close(fd)
        guard ok, rename(temp, path) == 0 else {
            unlink(temp)
            throw ACMEError(.invalidInput, "cannot write \(path): \(failure)")
        }
        let dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 {
            fsync(dfd)
            close(dfd)
        }
    }
}
