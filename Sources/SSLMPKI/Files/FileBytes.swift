import Foundation
import SSLMCore

/// Reading whole input files with errors that name the file, bounded by `BoundedFile` (1 MiB by default,
/// the limit of PEM files). Not for large or streaming data.
public enum FileBytes {
    /// The bytes of `path`; `SSLMError(.fileUnreadable)` naming the path when it cannot be read,
    /// `SSLMError(.fileTooLarge)` when it is larger than `limit`.
    public static func read(_ path: String, limit: BoundedFile.Limit = .pem) throws -> [UInt8] {
        try BoundedFile.read(path, limit: limit)
    }

    /// The PEM blocks of `path`.
    public static func readPEM(_ path: String) throws -> [PEMBlock] {
        try PEMBlock.parseAll(read(path), file: path)
    }
}
