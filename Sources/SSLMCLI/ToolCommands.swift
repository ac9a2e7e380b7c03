import ArgumentParser

/// The ssl-mgr side tools (sslm-info, sslm-verify, sslm-tlsa-hash, sslm-dhparm) as subcommands.
enum ToolCommands {
    static let all: [any ParsableCommand.Type] = [
        InfoCommand.self, VerifyCommand.self, TLSAHashCommand.self, DHParamCommand.self,
    ]
}
