import Foundation
import SSLMCore

#if canImport(Glibc)
    import Glibc
#endif

/// The one topdir builder of the tests and benchmarks: a directory (a fresh one under the temporary directory,
/// or an existing one), files written below it with plain POSIX writes (no fsync: fixtures, not the executor),
/// `conf.d/` files, links, and copies of the bundled example.
///
/// A scratch topdir made by `init(_:in:)` is removed when the value is released (unless `removesItself` is
/// false); one opened with `init(at:)` never is. Fixtures subclass it to add their configuration and
/// helpers. Not for code under test: it never checks what it writes.
open class ScratchTopdir: @unchecked Sendable {
    public let path: String
    private let removesItself: Bool

    /// A new empty directory `<root>/<prefix>-<UUID>`.
    public init(_ prefix: String = "sslm-test", in root: String? = nil, removesItself: Bool = true) throws {
        path = ScratchTopdir.newPath(prefix, in: root)
        self.removesItself = removesItself
        try ScratchTopdir.makeDirectory(path, parents: true)
    }

    /// An existing directory (or one to be made by the first write), never removed by this value.
    public init(at path: String) {
        self.path = path
        removesItself = false
    }

    deinit { if removesItself { try? FileManager.default.removeItem(atPath: path) } }

    /// `<root>/<prefix>-<UUID>` (root: the temporary directory), not created.
    public static func newPath(_ prefix: String, in root: String? = nil) -> String {
        (root ?? FileManager.default.temporaryDirectory.path) + "/\(prefix)-\(UUID().uuidString)"
    }

    /// Removes the whole directory now.
    public func remove() { try? FileManager.default.removeItem(atPath: path) }

    /// The absolute path of `relative`.
    public func file(_ relative: String) -> String { path + "/" + relative }

    // MARK: writing

    /// Writes `conf.d/<name>` for each entry; a nil content removes that file.
    public func writeConf(_ files: [String: String?]) throws {
        try Self.makeDirectory(file("conf.d"), parents: true)
        for (name, content) in files {
            if let content {
                try write("conf.d/" + name, content)
            } else {
                try? FileManager.default.removeItem(atPath: file("conf.d/" + name))
            }
        }
    }

    /// Writes a file below the topdir (parents made); returns its absolute path.
    @discardableResult
    public func write(_ relative: String, _ content: String, mode: mode_t = 0o644) throws -> String {
        try write(relative, Array(content.utf8), mode: mode)
    }

    @discardableResult
    public func write(_ relative: String, _ bytes: [UInt8], mode: mode_t = 0o644) throws -> String {
        let target = file(relative)
        try Self.writeFile(bytes, to: target, mode: mode, makeParents: true)
        return target
    }

    public func read(_ relative: String) throws -> String {
        try String(contentsOfFile: file(relative), encoding: .utf8)
    }

    public func mkdir(_ relative: String) throws { try Self.makeDirectory(file(relative), parents: true) }

    /// Replaces whatever is at `relative` with a symbolic link to `target`.
    public func symlink(_ relative: String, to target: String) throws {
        try? FileManager.default.removeItem(atPath: file(relative))
        try FileManager.default.createSymbolicLink(atPath: file(relative), withDestinationPath: target)
    }

    public func remove(_ relative: String) throws { try FileManager.default.removeItem(atPath: file(relative)) }

    /// Flips one byte of a file.
    public func flipByte(_ relative: String, at offset: Int = 40) throws {
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: file(relative))))
        bytes[offset] = bytes[offset] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        try write(relative, bytes)
    }

    /// `conf.d/` from the repository's `conf.d.example`, changed so that it needs no DNS server (the mail
    /// services' DANE entries move from port 25, whose owners are MX hosts looked up in DNS, to 465, whose
    /// owners are the SANs) unless `keepPort25`, and with `ecKeys` generates fast (mail-rsa's RSA-4096 key
    /// becomes EC).
    public func copyExample(ecKeys: Bool = true, keepPort25: Bool = false) throws {
        try FileManager.default.copyItem(atPath: Repo.root.path + "/conf.d.example", toPath: file("conf.d"))
        for service in ["mail-ec", "mail-rsa"] {
            let relative = "conf.d/example.com/\(service)"
            var text = try read(relative)
            if !keepPort25 {
                text = text.replacingOccurrences(
                    of: "dane_tls = [[25, 'tcp', 3, 1, 1]]", with: "dane_tls = [[465, 'tcp', 3, 1, 1]]")
            }
            if ecKeys { text = text.replacingOccurrences(of: "ktype = 'rsa'", with: "ktype = 'ec'") }
            try write(relative, text)
        }
    }

    /// A copy of the whole topdir (`cp -a`: links, modes and times kept) at a new path in `root`; the caller
    /// removes it.
    public func copy(prefix: String = "sslm-copy", into root: String? = nil) throws -> String {
        let target = Self.newPath(prefix, in: root)
        let copy = try ScriptRunner.run(["/bin/cp", "-a", path, target])
        guard copy.succeeded else { throw TestbedError("cp -a \(path) \(target) failed: \(copy.stderr)") }
        return target
    }

    // MARK: inspecting

    public func exists(_ relative: String) -> Bool { FileKind.of(file(relative)) != .missing }

    /// Permission bits (of the target of a link), nil when absent.
    public func mode(_ relative: String) -> Int? { Self.mode(file(relative)) }

    public static func mode(_ absolute: String) -> Int? {
        var info = stat()
        guard stat(absolute, &info) == 0 else { return nil }
        return Int(info.st_mode & 0o777)
    }

    /// Sorted names in a directory (empty when it is missing).
    public static func entries(_ directory: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
    }

    // MARK: primitives (absolute paths)

    /// Plain POSIX write (no fsync), `mode` for a new file.
    public static func writeFile(_ bytes: [UInt8], to path: String, mode: mode_t = 0o644, makeParents: Bool = false)
        throws
    {
        if makeParents, let slash = path.lastIndex(of: "/"), slash != path.startIndex {
            try makeDirectory(String(path[..<slash]), parents: true)
        }
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw SSLMError(.ioFailure, "\(path): open failed (errno \(errno))") }
        defer { close(fd) }
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { buffer in
                Glibc.write(fd, buffer.baseAddress.map { $0 + offset }, buffer.count - offset)
            }
            guard written > 0 else { throw SSLMError(.ioFailure, "\(path): write failed (errno \(errno))") }
            offset += written
        }
    }

    public static func writeFile(_ text: String, to path: String, mode: mode_t = 0o644, makeParents: Bool = false)
        throws
    {
        try writeFile(Array(text.utf8), to: path, mode: mode, makeParents: makeParents)
    }

    public static func makeDirectory(_ path: String, mode: mode_t = 0o755, parents: Bool = false) throws {
        if parents {
            try FileManager.default.createDirectory(
                atPath: path, withIntermediateDirectories: true,
                attributes: [.posixPermissions: NSNumber(value: mode)])
            return
        }
        guard Glibc.mkdir(path, mode) == 0 || errno == EEXIST else {
            throw SSLMError(.ioFailure, "\(path): mkdir failed (errno \(errno))")
        }
    }
}

/// What is at a path, without following a final symbolic link (lstat).
public enum FileKind: Sendable, Equatable {
    case missing, file, directory, symlink, other

    public static func of(_ path: String) -> FileKind {
        var info = stat()
        guard lstat(path, &info) == 0 else { return .missing }
        switch info.st_mode & S_IFMT {
        case S_IFREG: return .file
        case S_IFDIR: return .directory
        case S_IFLNK: return .symlink
        default: return .other
        }
    }
}

/// A scratch topdir holding conf.d.example (`ScratchTopdir.copyExample`), by path; the caller removes it.
public enum ExampleTopdir {
    /// `keepPort25`: leave the DANE entries on port 25 (MX owners; the test then provides DNS). `root`: the
    /// directory to make it in (the temporary directory).
    public static func make(_ prefix: String, ecKeys: Bool = true, keepPort25: Bool = false, in root: String? = nil)
        throws -> String
    {
        let topdir = try ScratchTopdir(prefix, in: root, removesItself: false)
        do {
            try topdir.copyExample(ecKeys: ecKeys, keepPort25: keepPort25)
        } catch {
            topdir.remove()
            throw error
        }
        return topdir.path
    }
}

// MARK: - conf.d texts

extension ScratchTopdir {
    /// `ssl-mgr.conf` of the small test topdirs: production in `prod/`, logs in `logs/`, no extra nameservers,
    /// `extraGlobals` lines, one active `[[groups]]` table per entry of `groups` (domain, services), the primary
    /// 127.0.0.1:5053 and `[dns] tlsa_dirs = ['dns/tlsa']` followed by `extraDNS` lines.
    public static func mainConf(
        groups: KeyValuePairs<String, [String]>, extraGlobals: [String] = [], extraDNS: [String] = []
    ) -> String {
        var lines = ["[globals]", "prod_cert_dir = 'prod'", "logdir = 'logs'", "dns_xtra_ns = []"] + extraGlobals
        for (domain, services) in groups {
            let names = services.map { "'\($0)'" }.joined(separator: ", ")
            lines += ["", "[[groups]]", "domain = '\(domain)'", "services = [\(names)]", "active = true"]
        }
        lines += ["", "[[dns_primary]]", "domain = 'default'", "server = '127.0.0.1'", "port = 5053"]
        lines += ["", "[dns]", "tlsa_dirs = ['dns/tlsa']"] + extraDNS
        return lines.joined(separator: "\n")
    }

    /// `ca-info.conf` of a self-signed `root` and a `local` intermediate `int` (`intermediate: false`: the root
    /// only).
    public static func localCAInfo(intermediate: Bool = true) -> String {
        "[root]\nca_type = 'self'" + (intermediate ? "\n[int]\nca_type = 'local'" : "")
    }

    /// A service file: `dane_tls` and `extra` top-level lines when given, `[KeyOpts]` from `key` lines, `[X509]`
    /// with O and C, `sans` when given, `[CA]` when `caDays` is given (a CA, or a self-signed leaf).
    public static func serviceConf(
        name: String, group: String, service: String, signer: String, dane: String? = nil, extra: [String] = [],
        key: [String], commonName: String, organization: String, sans: [String]? = nil, caDays: Int? = nil,
        digest: String? = nil
    ) -> String {
        var lines = ["name = '\(name)'", "group = '\(group)'", "service = '\(service)'", "signing_ca = '\(signer)'"]
        if let dane { lines.append("dane_tls = \(dane)") }
        lines += extra + ["[KeyOpts]"] + key
        lines += ["[X509]", "CN = '\(commonName)'", "O = '\(organization)'", "C = 'US'"]
        if let sans { lines.append("sans = [\(sans.map { "'\($0)'" }.joined(separator: ", "))]") }
        if let caDays { lines += ["[CA]", "sign_end_days = \(caDays)"] + (digest.map { ["digest = '\($0)'"] } ?? []) }
        return lines.joined(separator: "\n")
    }

    /// `ca/root`: the self-signed EC root "Test Root CA", 3650 days.
    public static func rootCAConf(ecAlgorithm: String? = nil, digest: String = "sha384") -> String {
        serviceConf(
            name: "Root", group: "ca", service: "root", signer: "self",
            key: ["ktype = 'ec'"] + (ecAlgorithm.map { ["ec_algo = '\($0)'"] } ?? []), commonName: "Test Root CA",
            organization: "Test", caDays: 3650, digest: digest)
    }

    /// `ca/int`: the EC intermediate "Test Intermediate CA" signed by `root`, 90 days.
    public static func intermediateCAConf(ecAlgorithm: String? = nil) -> String {
        serviceConf(
            name: "Intermediate", group: "ca", service: "int", signer: "root",
            key: ["ktype = 'ec'"] + (ecAlgorithm.map { ["ec_algo = '\($0)'"] } ?? []),
            commonName: "Test Intermediate CA", organization: "Test", caDays: 90, digest: "sha256")
    }

    /// `example.com/mail`: RSA 2048 signed by `int`, DANE on port 25 (MX owners), CN example.com.
    public static func mailConf() -> String {
        serviceConf(
            name: "Mail", group: "example.com", service: "mail", signer: "int", dane: "[[25, 'tcp', 3, 1, 1]]",
            key: ["ktype = 'rsa'", "rsa_bits = 2048"], commonName: "example.com", organization: "Example",
            sans: ["mail.example.com", "example.com"])
    }
}
