/// Which files of a db directory belong in production (`prod_cert_dir`).
///
/// Every regular file, except the private key files of local CAs (group `ca`): `privkey.pem` and
/// `bundle.pem` of a CA stay in `certs/` (ssl-mgr copied them to production and to every server).
/// The one definition used by the planner (what production should hold) and the executor (what it copies).
public enum ProductionFileRule {
    public static let caPrivateFiles: Set<String> = ["privkey.pem", "bundle.pem"]

    public static func includes(fileName: String, group: String) -> Bool {
        if fileName.isEmpty || fileName.hasPrefix(".") || fileName.utf8.contains(UInt8(ascii: "/")) { return false }
        if ServiceAddress.isCAGroup(group) && caPrivateFiles.contains(fileName) { return false }
        return true
    }

    /// Files holding a private key: `privkey.pem` and `bundle.pem` (key + fullchain).
    public static let privateFiles: Set<String> = ["privkey.pem", "bundle.pem"]

    /// The permission bits sslm gives a file in production, whatever its mode in `certs/`: 0600 for the
    /// private key files, 0644 for the others. (There is no configured group or mode; a `post_copy_cmd`
    /// can widen access for an application user.)
    public static func mode(fileName: String) -> UInt32 {
        privateFiles.contains(fileName) ? 0o600 : 0o644
    }

    /// `0644` style text of permission bits, as shown in plans.
    public static func modeText(_ mode: UInt32) -> String {
        let text = String(mode & 0o7777, radix: 8)
        return String(repeating: "0", count: max(0, 4 - text.count)) + text
    }

    /// The production subset of a db directory's files (name → digest).
    public static func productionFiles(_ files: [String: String], group: String) -> [String: String] {
        // Usually every file belongs: then the dictionary itself, without building a copy.
        guard files.keys.contains(where: { !includes(fileName: $0, group: group) }) else { return files }
        return files.filter { includes(fileName: $0.key, group: group) }
    }
}
