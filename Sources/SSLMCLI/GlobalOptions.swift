import ArgumentParser
import Foundation
import SSLMConfig
import SSLMCore
import SSLMPKI

/// Options every command that works on a topdir accepts.
public struct GlobalOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "The directory that contains conf.d/ (default: $SSL_MGR_TOPDIR, then ./, then /etc/ssl-mgr/, the first with a conf.d).",
            valueName: "dir"))
    public var topdir: String?

    @Flag(
        name: [.customShort("v"), .customLong("verbose"), .customLong("verb")],
        help: "Print more detail (also set by [globals] verb = true).")
    public var verbose = false

    public init() {}

    /// The topdir this run works on.
    func resolveTopdir() throws -> String {
        do {
            return try TopdirResolver(explicit: topdir).resolve()
        } catch {
            throw CLIError(error.message)
        }
    }
}

/// An error already explained to the user: printed as one line, exit status 1.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}

/// Writes to standard error.
enum Console {
    static func error(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    static func out(_ line: String) {
        print(line)
    }
}

/// Loads the configuration for a command, printing diagnostics to standard error.
enum ConfigSession {
    /// The loaded config, or throws after printing every diagnostic.
    static func load(_ options: GlobalOptions, extraTargets: [ServiceAddress] = []) throws -> Config {
        try load(topdirOption: options.topdir, extraTargets: extraTargets)
    }

    /// `cache`: `.record` only for a run holding the writer lock, which then writes `.sslm/config-cache`
    /// (advisory: a cache that cannot be written only means parsing again next time).
    static func load(topdirOption: String?, extraTargets: [ServiceAddress] = [], cache: ConfigCache.Use = .read)
        throws -> Config
    {
        let topdir: String
        do {
            topdir = try TopdirResolver(explicit: topdirOption).resolve()
        } catch {
            throw CLIError(error.message)
        }
        let result = ConfigLoader.load(
            topdir: topdir, extraTargets: extraTargets, cache: ConfigCache.Use.fromEnvironment(cache))
        if let cache = result.cache, cache.recording { try? writeCache(cache, topdir: topdir) }
        for diagnostic in result.diagnostics { Console.error(diagnostic.description) }
        guard let config = result.config else {
            throw CLIError(
                "the configuration in \(topdir)/conf.d has \(result.diagnostics.errors.count) error(s); nothing was done"
            )
        }
        return config
    }

    /// Writes `.sslm/config-cache` (0600, atomically, inside the topdir).
    static func writeCache(_ cache: ConfigCache, topdir: String) throws {
        let bytes = cache.encode()
        _ = try ConfinedDirectory.open(topdir + "/.sslm", below: topdir, createMode: 0o700)
        try AtomicFile.write(
            bytes, to: topdir + "/" + ConfigCache.relativePath, mode: AtomicFile.privateMode, root: topdir)
    }
}
