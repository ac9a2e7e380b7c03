import Foundation
import SSLMConfig
import SSLMCore
import SSLMTestSupport

/// conf.d.example copied into a throw-away topdir, optionally edited, and loaded.
enum ExampleConfig {
    /// Edits: file (relative to conf.d) → [(old, new)] replacements; an empty old string appends.
    static func load(_ edits: [String: [(String, String)]] = [:]) throws -> Config {
        let scratch = try ScratchTopdir("sslm-plan-tests")
        defer { scratch.remove() }
        let topdir = scratch.path
        try scratch.copyExample(ecKeys: false, keepPort25: true)
        for (file, replacements) in edits {
            var text = (try? scratch.read("conf.d/" + file)) ?? ""
            for (old, new) in replacements {
                if old.isEmpty {
                    text += "\n" + new + "\n"
                } else {
                    guard text.contains(old) else { throw ExampleConfigError("\(file): \"\(old)\" not found") }
                    text = text.replacingOccurrences(of: old, with: new)
                }
            }
            try scratch.write("conf.d/" + file, text)
        }
        let result = ConfigLoader.load(topdir: topdir)
        guard var config = result.config else {
            throw ExampleConfigError(result.diagnostics.map(\.description).joined(separator: "\n"))
        }
        // Plans show paths relative to the topdir; make the topdir itself fixed so plans are comparable.
        config = config.relocated(from: topdir, to: "/srv/sslm")
        return config
    }
}

struct ExampleConfigError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension Config {
    /// The same config as if it had been loaded from `newTopdir` (paths inside the old topdir moved).
    func relocated(from old: String, to new: String) -> Config {
        func move(_ path: String) -> String { path.hasPrefix(old + "/") ? new + path.dropFirst(old.count) : path }
        var copy = self
        copy.topdir = new
        copy.globals.prodCertDir = move(globals.prodCertDir)
        copy.globals.logDir = move(globals.logDir)
        copy.dns.tlsaDirs = dns.tlsaDirs.map(move)
        copy.dns.acmeDirs = dns.acmeDirs.map(move)
        copy.servers = servers.map { section in
            var section = section
            section.serverDir = section.serverDir.map(move)
            return section
        }
        return copy
    }
}
