/// Which files of a db directory belong in production (`prod_cert_dir`).
///
/// Every regular file, except the private key files of local CAs (group `ca`): `privkey.pem` and
/// `bundle.pem` of a CA stay in `certs/` (ssl-mgr copied them to production and to every server).
/// The one definition used by the planner (what production should hold) and the executor (what it copies).
public enum ProductionFileRule {
    public static let caPrivateFiles: Set<String> = ["privkey.pem", "bundle.pem"]

    public static func includes(fileName: String, group: String) -> Bool {
        if fileName.isEmpty || fileName.hasPrefix(".") || fileName.contains("/") { return false }
        if group.lowercased() == "ca" && caPrivateFiles.contains(fileName) { return false }
        return true
    }

    /// The production subset of a db directory's files (name → digest).
    public static func productionFiles(_ files: [String: String], group: String) -> [String: String] {
        files.filter { includes(fileName: $0.key, group: group) }
    }
}
