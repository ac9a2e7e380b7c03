import SSLMConfig
import SSLMCore

/// Paths of ssl-mgr's `certs/` tree (spec §3.1): the single definition shared by the observer and the
/// executor. Pure string composition; no I/O, no validation (addresses are already safe names).
public enum CertsLayout {
    /// `<topdir>/certs`.
    public static func certsDirectory(topdir: String) -> String { topdir + "/certs" }

    /// `<topdir>/certs/<group>`.
    public static func groupDirectory(topdir: String, group: String) -> String {
        certsDirectory(topdir: topdir) + "/" + group
    }

    /// `<topdir>/certs/<group>/<service>`.
    public static func serviceDirectory(topdir: String, address: ServiceAddress) -> String {
        groupDirectory(topdir: topdir, group: address.group) + "/" + address.service
    }

    /// `<topdir>/certs/<group>/<service>/db`.
    public static func dbDirectory(topdir: String, address: ServiceAddress) -> String {
        serviceDirectory(topdir: topdir, address: address) + "/db"
    }

    /// `<topdir>/certs/<group>/<service>/<curr|next>/cert.pem` — the certificate TLSA records are built from.
    public static func certificateFile(topdir: String, address: ServiceAddress, slot: CertificateSlot) -> String {
        serviceDirectory(topdir: topdir, address: address) + "/" + slot.rawValue + "/cert.pem"
    }

    /// `<topdir>/certs/<apex>/tlsa.<apex>`.
    public static func tlsaFile(topdir: String, apex: String) -> String {
        groupDirectory(topdir: topdir, group: apex) + "/" + tlsaFileName(apex: apex)
    }

    /// `tlsa.<apex>` (the same name in `certs/<apex>/`, `<prod>/<apex>/` and each `[dns] tlsa_dirs`).
    public static func tlsaFileName(apex: String) -> String { "tlsa." + apex }

    /// The link target ssl-mgr writes for `curr`/`next`/`prev`: `db/<name>` (relative).
    public static func linkTarget(dbName: String) -> String { "db/" + dbName }

    /// `<topdir>/.sslm/lineage`.
    public static func lineageFile(topdir: String) -> String { topdir + "/.sslm/lineage" }
}

/// What belongs in production (`prod_cert_dir`, spec §3.7) and where: the single definition the planner
/// (to compare), the executor (to copy) and the observer (to read) share.
///
/// Which files: every regular file of the db directory, except
/// - dot-files (temporary files of an interrupted atomic write), and
/// - for the local-CA group `ca`, the private key files `privkey.pem` and `bundle.pem`: CA keys stay in
///   `certs/` (ssl-mgr copied them; sslm does not).
/// Not for deciding what the observer reads: it reads every file.
public enum ProductionLayout {
    /// Files never copied to production for the `ca` group.
    public static var caPrivateFiles: Set<String> { ProductionFileRule.caPrivateFiles }

    /// True when a file of a db directory of `group` belongs in `<prod>/<group>/<service>/<slot>/`
    /// (delegates to `ProductionFileRule`, the one definition the planner uses too).
    public static func includes(fileName: String, group: String) -> Bool {
        ProductionFileRule.includes(fileName: fileName, group: group)
    }

    /// The production file set of a db directory: file name → digest, as production should hold it.
    public static func productionFiles(of directory: DBDirState, group: String) -> [String: String] {
        ProductionFileRule.productionFiles(directory.files, group: group)
    }

    /// `<prod>/<group>`.
    public static func groupDirectory(prodRoot: String, group: String) -> String { prodRoot + "/" + group }

    /// `<prod>/<group>/<service>`.
    public static func serviceDirectory(prodRoot: String, address: ServiceAddress) -> String {
        groupDirectory(prodRoot: prodRoot, group: address.group) + "/" + address.service
    }

    /// `<prod>/<group>/<service>/<curr|next>` (a directory; the executor may make it a symlink to a hidden
    /// directory it swaps in — readers follow it).
    public static func serviceDirectory(prodRoot: String, address: ServiceAddress, slot: CertificateSlot) -> String {
        serviceDirectory(prodRoot: prodRoot, address: address) + "/" + slot.rawValue
    }

    /// `<prod>/<apex>/tlsa.<apex>`.
    public static func tlsaFile(prodRoot: String, apex: String) -> String {
        groupDirectory(prodRoot: prodRoot, group: apex) + "/" + CertsLayout.tlsaFileName(apex: apex)
    }
}
