import Foundation
import SSLMCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Permission bits of files for the observer: one `stat` per file, only for the files whose mode sslm
/// manages (key files in `certs/`, every production file). Read-only.
enum FileModes {
    /// The permission bits of `path` (following a symlink, as a server reading it would); nil when it
    /// cannot be stat'ed.
    static func permissions(_ path: String) -> UInt32? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return UInt32(info.st_mode) & 0o7777
    }

    /// `names` (files of `directory`) whose mode differs from `expected(name)`, → the mode found.
    static func drift(directory: String, names: some Sequence<String>, expected: (String) -> UInt32)
        -> [String: String]
    {
        var result: [String: String] = [:]
        for name in names {
            guard let mode = permissions(directory + "/" + name), mode != expected(name) else { continue }
            result[name] = ProductionFileRule.modeText(mode)
        }
        return result
    }
}
