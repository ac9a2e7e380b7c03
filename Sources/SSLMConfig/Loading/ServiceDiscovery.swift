import Foundation
import SSLMCore

/// Finds the service files of a group for `services = '*'` / `'ALL'`.
///
/// A file counts when, with all white space removed, it has lines starting with `name=`, `group=`,
/// `service=`, `[KeyOpts]` and `[X509]` (ssl-mgr's rule). Hidden files and editor or package-manager
/// leftovers (`~`, `.bak`, `.swp`, `.orig`, `.dpkg-*`, `.rpmnew`, `.rpmsave`) are skipped.
enum ServiceDiscovery {
    static func services(inGroupDirectory path: String) -> [String] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: path) else { return [] }
        return entries.sorted().filter { name in
            if name.hasPrefix(".") || name.hasSuffix("~") { return false }
            let leftovers = [
                ".bak", ".swp", ".orig", ".rpmnew", ".rpmsave", ".dpkg-old", ".dpkg-new", ".dpkg-dist", ".tmp",
            ]
            if leftovers.contains(where: name.hasSuffix) { return false }
            if !SafeName.isSafe(name) { return false }
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path + "/" + name, isDirectory: &isDirectory),
                !isDirectory.boolValue,
                let bytes = try? BoundedFile.read(path + "/" + name, limit: .config),
                let text = String(bytes: bytes, encoding: .utf8)
            else { return false }
            return looksLikeServiceConfig(text)
        }
    }

    static func looksLikeServiceConfig(_ text: String) -> Bool {
        var needed: Set<String> = ["name=", "group=", "service=", "[KeyOpts]", "[X509]"]
        for line in text.split(whereSeparator: \.isNewline) {
            let squeezed = String(line.filter { !$0.isWhitespace })
            for prefix in needed where squeezed.hasPrefix(prefix) { needed.remove(prefix) }
            if needed.isEmpty { return true }
        }
        return false
    }
}
