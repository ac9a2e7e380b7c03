import Foundation

/// Makes config paths absolute: relative paths are taken relative to the topdir (ssl-mgr used the
/// process's working directory, so the same config meant different places from cron and from a shell).
struct PathResolver {
    let topdir: String

    func resolve(_ path: String) -> String {
        let joined = path.hasPrefix("/") ? path : topdir + "/" + path
        return (joined as NSString).standardizingPath
    }
}
