import SSLMConfig
import SSLMCore
import X509

/// Finds the `certs/<group>/<service>` directories the config no longer describes (`OrphanState`): service
/// directories of configured groups whose service is gone, and every service directory of a group that is
/// gone altogether. Dot-entries (`certs/.retired`) and `tlsa.*` files are not services. Reads only.
enum OrphanReader {
    /// The orphans under `certs/`, sorted; `localCAs` are the observed readings of the local CAs (to tell a
    /// certificate one of them issued).
    static func read(config: Config, localCAs: [ServiceTreeReader.Reading], issuers: [Certificate])
        -> [OrphanState]
    {
        let topdir = config.topdir
        let configuredGroups = Set(config.groups.map(\.domain)).union(config.services.keys.map(\.group))
        let localCertificates = Set(
            localCAs.flatMap { reading in
                reading.state.dbDirs.compactMap { $0.certificate?.certificateSHA256 }
            })
        var result: [OrphanState] = []
        for group in PosixFiles.entries(CertsLayout.certsDirectory(topdir: topdir)) ?? [] {
            guard !group.name.hasPrefix("."), SafeName.isSafe(group.name),
                PosixFiles.isDirectory(CertsLayout.groupDirectory(topdir: topdir, group: group.name))
            else { continue }
            let groupRemoved = !configuredGroups.contains(group.name)
            let directory = CertsLayout.groupDirectory(topdir: topdir, group: group.name)
            for entry in PosixFiles.entries(directory) ?? [] {
                guard !entry.name.hasPrefix("."), !entry.name.hasPrefix("tlsa."), SafeName.isSafe(entry.name)
                else { continue }
                let address = ServiceAddress(group: group.name, service: entry.name)
                guard config.service(address) == nil, PosixFiles.isDirectory(directory + "/" + entry.name) else {
                    continue
                }
                let reading = ServiceTreeReader.read(topdir: topdir, address: address, fallbackIssuers: issuers)
                let currDirectory = reading.state.dbDir(reading.state.curr)
                let production = PosixFiles.isDirectory(
                    ProductionLayout.serviceDirectory(prodRoot: config.globals.prodCertDir, address: address))
                let issuer = currDirectory?.chainFirst?.certificateSHA256
                result.append(
                    OrphanState(
                        address: address, groupRemoved: groupRemoved, production: production,
                        curr: currDirectory?.certificate,
                        currIssuedLocally: issuer.map(localCertificates.contains) ?? false
                            || currDirectory?.certificate?.isSelfSigned == true))
            }
        }
        return result.sorted { $0.address < $1.address }
    }
}
