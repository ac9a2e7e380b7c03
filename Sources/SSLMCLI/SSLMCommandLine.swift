import ArgumentParser
import Foundation

/// Entry point of the command line: chooses the front end by the program name, as ssl-mgr's installed
/// names do (`sslm-mgr` and the side tools `sslm-info`, `sslm-verify`, `sslm-tlsa-hash`, `sslm-dhparm`,
/// all symlinks to `sslm`).
public enum SSLMCommandLine {
    /// ssl-mgr's side tools and the `sslm` subcommand each one is. The subcommands take ssl-mgr's options.
    public static let sideTools: [String: String] = [
        "sslm-info": "info", "sslm-verify": "verify", "sslm-tlsa-hash": "tlsa-hash", "sslm-dhparm": "dhparam",
    ]

    public static func run() async {
        let name = programName
        let arguments = Array(CommandLine.arguments.dropFirst())
        if name == "sslm-mgr" {
            let status = await LegacyCommandLine.run(arguments)
            exit(status)
        }
        if let subcommand = sideTools[name] {
            await SSLMRootCommand.main([subcommand] + arguments)
            return
        }
        await SSLMRootCommand.main()
    }

    /// Runs and exits when argv is a plain `sslm status` command line (`StatusFastPath`); returns
    /// otherwise, having done nothing.
    public static func runFastPath() {
        guard programName == "sslm" else { return }
        if let options = StatusFastPath.options(Array(CommandLine.arguments.dropFirst())) {
            StatusFastPath.run(options)
        }
    }

    /// The name sslm was run as (argv[0] without its directory).
    static var programName: String {
        (CommandLine.arguments.first ?? "sslm").split(separator: "/").last.map(String.init) ?? "sslm"
    }
}
