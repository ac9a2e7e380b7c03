import ArgumentParser
import Foundation

/// Entry point of the command line: chooses the front end by the program name.
public enum SSLMCommandLine {
    public static func run() async {
        let name = (CommandLine.arguments.first ?? "sslm").split(separator: "/").last.map(String.init) ?? "sslm"
        if name == "sslm-mgr" {
            let status = await LegacyCommandLine.run(Array(CommandLine.arguments.dropFirst()))
            exit(status)
        }
        await SSLMRootCommand.main()
    }
}
