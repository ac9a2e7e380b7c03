import ArgumentParser
import Foundation

/// `sslm status` in its plain forms, read without ArgumentParser.
///
/// `status` is what an operator types by hand, so its start-up is what they feel. ArgumentParser builds
/// every command's argument set by reflection (Mirror over each property wrapper) and first checks for a
/// completion-script request, and each first (type, protocol) pair it asks the runtime about is a scan of
/// the binary's 10,000 conformance records: about 2.5 ms of a 16 ms run (Docs/PERFORMANCE.md, "status").
///
/// Only argument lists made of the options below are taken here, each option at most once:
///
///     status [--topdir DIR | --topdir=DIR] [-v | --verbose | --verb] [--json] [--test] [TARGET ...]
///
/// Anything else — `--help`, `--now`, `--metrics-file`, an unknown or repeated option, `--`, an empty
/// or dash-led value — returns nil and goes to ArgumentParser, which parses, explains and rejects as
/// always. `StatusFastPathTests` checks that every list taken here parses to the same `StatusOptions`
/// with ArgumentParser.
enum StatusFastPath {
    /// The options of `arguments` (argv without the program name), or nil when they are not a plain
    /// `status` command line.
    static func options(_ arguments: [String]) -> StatusOptions? {
        guard arguments.first == "status" else { return nil }
        var options = StatusOptions()
        var seen: Set<String> = []
        var index = 1
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            guard argument.hasPrefix("-") else {
                // A target. "help" is left to the parser, which may read it as a request for help.
                guard !argument.isEmpty, argument != "help" else { return nil }
                options.targets.append(argument)
                continue
            }
            var name = argument
            var value: String?
            if argument.hasPrefix("--topdir=") {
                name = "--topdir"
                value = String(argument.dropFirst("--topdir=".count))
            } else if argument == "--topdir", index < arguments.count {
                value = arguments[index]
                index += 1
            }
            let option = name == "-v" || name == "--verb" ? "--verbose" : name
            guard seen.insert(option).inserted else { return nil }
            switch option {
            case "--topdir":
                guard let value, !value.isEmpty, !value.hasPrefix("-") else { return nil }
                options.topdir = value
            case "--verbose": options.verbose = true
            case "--json": options.json = true
            case "--test": options.test = true
            default: return nil
            }
        }
        return options
    }

    /// Runs `options` and exits as `AsyncParsableCommand.main()` would: 0, or the error's message and
    /// exit code.
    static func run(_ options: StatusOptions) -> Never {
        do {
            try options.run()
        } catch {
            SSLMRootCommand.exit(withError: error)
        }
        SSLMRootCommand.exit()
    }
}
