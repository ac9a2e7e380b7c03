import SSLMCore
import X509

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads `certs/<group>/<service>`: the `curr`/`next`/`prev` links, the dated `db/` directories and the
/// stray entries of `db/`. Read-only; never throws.
///
/// A link is `.valid(name)` only when it is a symlink to `db/<name>` — relative, as ssl-mgr writes it
/// (`db/<name>`, also `./db/<name>` or with a trailing slash), or absolute inside this service's `db/` —
/// and `db/<name>` is a dated directory that exists. Any other symlink is `.dangling(target)`; a real file
/// or directory named like a link is `.notALink`.
enum ServiceTreeReader {
    /// The service state and the leaf certificates of `curr` and `next` (for TLSA records).
    struct Reading: Sendable {
        var state: ServiceState
        var leaves: [CertificateSlot: DBDirectoryReader.Leaf]

        /// The leaf of `slot`, decoded from the cache's DER if it was not parsed in this run.
        func certificate(_ slot: CertificateSlot) -> Certificate? { leaves[slot]?.certificate }
    }

    /// `curr` and `next` are checked as whole sets (`DBDirectoryReader.read(validate:)`); `fallbackIssuers`
    /// are the local CAs' current certificates.
    static func read(
        topdir: String, address: ServiceAddress, chainCache: DBDirectoryReader.ChainCache = .init(),
        fallbackIssuers: [Certificate] = [], cache: ObservationCache? = nil
    ) -> Reading {
        let serviceDirectory = CertsLayout.serviceDirectory(topdir: topdir, address: address)
        // Held open (`O_PATH`) for the links: `lstat` and `readlink` relative to it.
        guard let service = PosixFiles.openDirectoryPath(serviceDirectory) else {
            return Reading(
                state: ServiceState(
                    address: address, exists: false, curr: .absent, next: .absent, prev: .absent, dbDirs: [],
                    strayEntries: []),
                leaves: [:])
        }
        let dbDirectory = serviceDirectory + "/db"
        var datedNames = Set<String>()
        var strays: [String] = []
        for entry in PosixFiles.entries(dbDirectory) ?? [] {
            let kind = entry.kind ?? PosixFiles.linkKind(dbDirectory + "/" + entry.name)
            if kind == .directory, Timestamps.isDBDirectoryName(entry.name) {
                datedNames.insert(entry.name)
            } else {
                strays.append(entry.name)
            }
        }
        defer { close(service) }
        let curr = link(service, serviceDirectory, "curr", datedNames)
        let next = link(service, serviceDirectory, "next", datedNames)
        let prev = link(service, serviceDirectory, "prev", datedNames)
        let linked = Set([curr, next, prev].compactMap(\.dbName))
        let checked = Set([curr, next].compactMap(\.dbName))

        var dbDirs: [DBDirState] = []
        var leaves: [String: DBDirectoryReader.Leaf] = [:]
        for name in datedNames.sorted() {
            if linked.contains(name) {
                let reading = DBDirectoryReader.read(
                    path: dbDirectory + "/" + name, name: name, chainCache: chainCache,
                    validate: checked.contains(name), fallbackIssuers: fallbackIssuers, cache: cache)
                dbDirs.append(reading.state)
                leaves[name] = reading.leaf
            } else {
                dbDirs.append(DBDirectoryReader.nameOnly(name).state)
            }
        }
        var slotLeaves: [CertificateSlot: DBDirectoryReader.Leaf] = [:]
        if let name = curr.dbName { slotLeaves[.curr] = leaves[name] }
        if let name = next.dbName { slotLeaves[.next] = leaves[name] }
        return Reading(
            state: ServiceState(
                address: address, exists: true, curr: curr, next: next, prev: prev, dbDirs: dbDirs,
                strayEntries: strays),
            leaves: slotLeaves)
    }

    /// The link `name` of the service directory `serviceDirectory`, open as `service`.
    static func link(_ service: Int32, _ serviceDirectory: String, _ name: String, _ datedNames: Set<String>)
        -> LinkState
    {
        switch PosixFiles.linkKind(at: service, name) {
        case .missing: return .absent
        case .symlink: break
        default: return .notALink
        }
        guard let target = PosixFiles.readLink(at: service, name) else { return .dangling("") }
        guard let dbName = dbName(target: target, serviceDirectory: serviceDirectory),
            datedNames.contains(dbName)
        else { return .dangling(target) }
        return .valid(dbName)
    }

    /// The `<name>` of a link target `db/<name>` of this service, nil for any other target.
    static func dbName(target: String, serviceDirectory: String) -> String? {
        var text = target
        while text.count > 1, text.hasSuffix("/") { text.removeLast() }
        if text.hasPrefix("/") {
            guard let slash = text.lastIndex(of: "/") else { return nil }
            let parent = String(text[..<slash])
            let name = String(text[text.index(after: slash)...])
            let db = serviceDirectory + "/db"
            if parent == db { return name }
            guard let resolvedParent = PosixFiles.realPath(parent), let resolvedDB = PosixFiles.realPath(db),
                resolvedParent == resolvedDB
            else { return nil }
            return name
        }
        while text.hasPrefix("./") { text.removeFirst(2) }
        guard text.hasPrefix("db/") else { return nil }
        let name = String(text.dropFirst(3))
        guard !name.isEmpty, !name.contains("/") else { return nil }
        return name
    }
}
