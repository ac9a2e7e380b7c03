import ArgumentParser
import Foundation
import SSLMCore
import SSLMPKI

/// `sslm dhparam`: Diffie-Hellman parameter files for servers — ssl-mgr's `sslm-dhparm`, without its
/// crash on the default key list.
public struct DHParamCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "dhparam",
        abstract: "Write DH parameter files into DIR/dh/ (RFC 7919 groups and generated sizes).",
        discussion: """
            For each DIR (or, with -s, each sub-directory of each DIR except one named ca), writes into \
            DIR/dh/ (created with mode 0750):

              dh-ffdheN.pem   RFC 7919 group ffdheN (fixed published primes: written once, never aged)
              dhN.pem         newly generated N-bit safe-prime parameters, generator 2 (regenerated when \
            older than --age-days)
              dhparam.pem     symlink to the first numeric size in --keys, or, when there is none, to the \
            first group in --keys: dh-ffdhe8192.pem with the default list

            Generating sizes of 4096 bits or more takes minutes to hours; prefer the RFC 7919 groups. \
            Missing DIRs are skipped with a warning. "Now" for the age check is SSLM_NOW when set.
            """)

    @Option(
        name: [.short, .customLong("keys")],
        help: ArgumentHelp(
            "Comma-separated RFC 7919 groups (ffdhe2048…ffdhe8192) and/or sizes in bits.",
            valueName: "list"))
    public var keys: String = "ffdhe8192,ffdhe6144,ffdhe4096,ffdhe3072,ffdhe2048"

    @Option(
        name: [.short, .customLong("age-days")],
        help: ArgumentHelp("Regenerate numeric-size files older than this many days.", valueName: "days"))
    public var ageDays: Int = DHParamDirectory.defaultMaxAgeDays

    @Flag(name: [.short, .long], help: "Regenerate every requested file.")
    public var force = false

    @Flag(name: [.short, .long], help: "Work on each sub-directory of each DIR (skipping one named ca).")
    public var subdirs = false

    @Argument(help: ArgumentHelp("Directories (e.g. /etc/ssl-mgr/prod-certs with -s).", valueName: "dir"))
    public var directories: [String] = []

    public init() {}

    public func validate() throws {
        if directories.isEmpty { throw ValidationError("give at least one directory") }
        if ageDays < 0 { throw ValidationError("--age-days must not be negative") }
        do {
            _ = try DHParamDirectory.parseKeys(keys)
        } catch {
            throw ValidationError(ToolSupport.message(error))
        }
    }

    public func run() async throws {
        try await reportingErrors {
            let now = try ToolSupport.now()
            let updater = DHParamDirectory(
                groups: try DHParamDirectory.parseKeys(keys), maxAgeDays: ageDays, force: force, subdirectories: subdirs
            )
            let (events, warnings) = try updater.run(directories: directories, now: now)
            for warning in warnings { ToolSupport.errorLine("warning: " + warning) }
            ToolSupport.out(events.map { $0.description + "\n" }.joined())
        }
    }
}
