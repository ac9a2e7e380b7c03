import Foundation

/// Where `prod_cert_dir` must not be: sslm replaces `<prod>/<group>/<service>/{curr,next}` wholesale and
/// servers (rsync `--delete`) mirror the whole tree, so it must not overlap sslm's own state or a system
/// directory.
///
/// Rejected: the topdir itself, a directory that contains it, anything inside `certs/`, `.sslm/`, `conf.d/`
/// or `test/` (the `--test` state) of the topdir, and the system directories themselves (`/`, `/etc`,
/// `/usr`, …). Subdirectories of system directories, such as the default `/etc/ssl-mgr/prod-certs`, are
/// fine. Both the path as written (made absolute and normalised) and the path with existing symbolic links
/// resolved are checked.
enum ProductionDirectory {
    /// Directories of the topdir that sslm owns.
    static let internalDirectories = ["certs", ".sslm", "conf.d", "test"]

    /// Directories that are never a production directory themselves.
    static let systemDirectories: Set<String> = [
        "/", "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib32", "/lib64", "/libx32", "/media", "/mnt",
        "/opt", "/proc", "/root", "/run", "/sbin", "/srv", "/sys", "/tmp", "/usr", "/usr/bin", "/usr/lib",
        "/usr/local", "/usr/sbin", "/usr/share", "/var", "/var/lib", "/var/log", "/var/tmp", "/var/run",
        "/etc/ssl", "/etc/ssl-mgr", "/etc/ssl/certs", "/etc/ssl/private",
    ]

    /// Nil when `path` (absolute, normalised) is usable for `topdir`; otherwise why not.
    static func problem(_ path: String, topdir: String) -> String? {
        let top = normalised(topdir)
        var seen: Set<String> = []
        for candidate in [normalised(path), resolved(path)] where seen.insert(candidate).inserted {
            let shown = candidate == normalised(path) ? candidate : "\(normalised(path)) (→ \(candidate))"
            if systemDirectories.contains(candidate) {
                return "\(shown) is a system directory; sslm would replace what is in it: use a directory of its "
                    + "own, such as /etc/ssl-mgr/prod-certs"
            }
            for base in [top, resolved(topdir)] {
                if candidate == base || isInside(base, candidate) {
                    return "\(shown) is the topdir or contains it; production would overwrite sslm's state: use a "
                        + "directory outside \(base)/certs, .sslm and conf.d, such as /etc/ssl-mgr/prod-certs"
                }
                for name in internalDirectories {
                    let inner = base + "/" + name
                    if candidate == inner || isInside(candidate, inner) {
                        return "\(shown) is \(inner) or inside it, which sslm manages itself: use a directory "
                            + "outside certs, .sslm, conf.d and test, such as /etc/ssl-mgr/prod-certs or "
                            + "'<topdir>/prod-certs'"
                    }
                }
            }
        }
        return nil
    }

    /// Whether `path` lies strictly below `directory`.
    private static func isInside(_ path: String, _ directory: String) -> Bool {
        directory == "/" ? path != "/" : path.hasPrefix(directory + "/")
    }

    static func normalised(_ path: String) -> String {
        var text = (path as NSString).standardizingPath
        while text.count > 1 && text.hasSuffix("/") { text.removeLast() }
        return text.isEmpty ? "/" : text
    }

    /// `path` with the symbolic links of its existing leading part resolved.
    static func resolved(_ path: String) -> String {
        var existing = normalised(path)
        var rest: [String] = []
        while existing != "/" && !FileManager.default.fileExists(atPath: existing) {
            rest.insert((existing as NSString).lastPathComponent, at: 0)
            existing = (existing as NSString).deletingLastPathComponent
        }
        guard let real = realpath(existing, nil) else { return normalised(path) }
        defer { free(real) }
        return normalised(([String(cString: real)] + rest).joined(separator: "/"))
    }
}
