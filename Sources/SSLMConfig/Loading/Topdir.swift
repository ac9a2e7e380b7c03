import Foundation
import SSLMCore

/// Finds the topdir: `--topdir` if given, else the first of `$SSL_MGR_TOPDIR`, the working directory
/// and `/etc/ssl-mgr/` that contains a `conf.d` directory (ssl-mgr's order).
///
/// Unlike ssl-mgr, which silently fell back to `/etc/ssl-mgr` when nothing matched, a miss is an error
/// listing every place that was tried.
public struct TopdirResolver: Sendable {
    public var explicit: String?
    public var environment: [String: String]
    public var workingDirectory: String
    public var systemDirectory: String

    public static let systemDefault = "/etc/ssl-mgr"

    public init(
        explicit: String?, environment: [String: String] = ProcessInfo.processInfo.environment,
        workingDirectory: String = FileManager.default.currentDirectoryPath,
        systemDirectory: String = TopdirResolver.systemDefault
    ) {
        self.explicit = explicit
        self.environment = environment
        self.workingDirectory = workingDirectory
        self.systemDirectory = systemDirectory
    }

    /// The candidates in the order they are tried, each with where it came from.
    public var candidates: [(path: String, origin: String)] {
        if let explicit { return [(absolute(explicit), "--topdir")] }
        var list: [(String, String)] = []
        if let env = environment["SSL_MGR_TOPDIR"], !env.isEmpty { list.append((absolute(env), "$SSL_MGR_TOPDIR")) }
        list.append((workingDirectory, "the working directory"))
        list.append((systemDirectory, "the system default"))
        return list
    }

    /// The absolute topdir, or an error naming every candidate tried.
    public func resolve() throws(SSLMError) -> String {
        let fm = FileManager.default
        for candidate in candidates {
            var isDirectory: ObjCBool = false
            if fm.fileExists(atPath: candidate.path + "/conf.d", isDirectory: &isDirectory), isDirectory.boolValue {
                return Self.normalise(candidate.path)
            }
        }
        let tried = candidates.map { "\($0.path)/conf.d (\($0.origin))" }.joined(separator: ", ")
        if explicit != nil {
            throw SSLMError(.topdirNotFound, "no conf.d directory in the given topdir: \(tried)")
        }
        throw SSLMError(
            .topdirNotFound,
            "no topdir found: none of \(tried) is a directory; use --topdir DIR or set SSL_MGR_TOPDIR")
    }

    private func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : workingDirectory + "/" + path
    }

    static func normalise(_ path: String) -> String {
        let standardized = (path as NSString).standardizingPath
        return standardized.isEmpty ? "/" : standardized
    }
}
