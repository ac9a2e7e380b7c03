import Foundation

/// This machine's host name (`gethostname`): a server table naming it restarts locally, not over ssh.
public enum LocalHostName {
    public static var current: String {
        var buffer = [CChar](repeating: 0, count: 256)
        _ = gethostname(&buffer, buffer.count - 1)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
