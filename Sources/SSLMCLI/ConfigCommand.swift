import ArgumentParser
import Foundation
import SSLMConfig
import SSLMCore

/// `sslm config …`: configuration commands.
struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Work with the configuration in conf.d/.",
        subcommands: [ConfigCheckCommand.self])
}

/// `sslm config check`: load and validate every config file; report all problems with file and key.
struct ConfigCheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Load and validate every config file; report every problem with its file and key.",
        discussion: """
            Reads conf.d/ssl-mgr.conf, conf.d/ca-info.conf and the service file of every configured group \
            and local CA. Every problem is reported, not only the first, as

              error: conf.d/example.com/mail-ec: [KeyOpts] ec_algo: unknown curve "secp999r1" (…)

            Unknown keys and tables are warnings. Exit status 1 when there is at least one error.
            """)

    @OptionGroup var global: GlobalOptions

    @Flag(help: "Print the diagnostics as JSON on standard output.")
    var json = false

    func run() async throws {
        let topdir = try global.resolveTopdir()
        let result = ConfigLoader.load(topdir: topdir)
        if json {
            Console.out(DiagnosticsJSON.render(topdir: topdir, result: result))
        } else {
            for diagnostic in result.diagnostics { Console.error(diagnostic.description) }
            let errors = result.diagnostics.errors.count
            let warnings = result.diagnostics.warnings.count
            if let config = result.config {
                let groups = config.groups.count
                let services = config.services.count
                let cas = config.certificateAuthorities.count
                Console.out(
                    "\(topdir)/conf.d: OK — \(groups) group(s), \(services) service(s), \(cas) CA(s)"
                        + (warnings > 0 ? ", \(warnings) warning(s)" : ""))
            } else {
                Console.out("\(topdir)/conf.d: \(errors) error(s), \(warnings) warning(s)")
            }
        }
        if result.config == nil { throw ExitCode(1) }
    }
}

/// JSON form of a config check, for tools.
enum DiagnosticsJSON {
    struct Item: Encodable {
        let severity: String
        let file: String
        let table: String?
        let key: String?
        let message: String
    }

    struct Document: Encodable {
        let topdir: String
        let ok: Bool
        let diagnostics: [Item]
    }

    static func render(topdir: String, result: ConfigLoadResult) -> String {
        let document = Document(
            topdir: topdir, ok: result.config != nil,
            diagnostics: result.diagnostics.map {
                Item(severity: $0.severity.rawValue, file: $0.file, table: $0.table, key: $0.key, message: $0.message)
            })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(document) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}
