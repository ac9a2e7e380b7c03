import Foundation
import SSLMCore

/// Reading whole input files with errors that name the file. Not for large or streaming data.
public enum FileBytes {
    /// The bytes of `path`; `SSLMError(.fileUnreadable)` naming the path when it cannot be read.
    public static func read(_ path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            var isDirectory: ObjCBool = false
            let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
            let why = !exists ? "no such file" : (isDirectory.boolValue ? "is a directory" : "permission denied")
            throw SSLMError(.fileUnreadable, "\(path): cannot read (\(why))")
        }
        return Array(data)
    }

    /// The PEM blocks of `path`.
    public static func readPEM(_ path: String) throws -> [PEMBlock] {
        try PEMBlock.parseAll(read(path), file: path)
    }
}
