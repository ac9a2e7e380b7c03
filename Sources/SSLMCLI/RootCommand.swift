import ArgumentParser
import SSLMCore

/// `sslm`: the root command.
struct SSLMRootCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sslm",
        abstract:
            "Keep every certificate valid: keys, CSRs, ACME and local CAs, DANE TLSA rollover, production copies, restarts.",
        discussion: """
            sslm is a plan/apply reconciler and a successor of ssl-mgr: it reads the same conf.d/ and keeps \
            the same certs/<group>/<service>/{curr,next,prev} layout.

              sslm plan      show what would change and why (changes nothing)
              sslm apply     make it so (the cron / systemd timer entry point)

            The topdir is --topdir, else $SSL_MGR_TOPDIR, ./ or /etc/ssl-mgr/ (the first with a conf.d/). \
            For tests and simulations, SSLM_NOW (RFC 3339, e.g. 2027-01-15T12:00:00Z) replaces the clock.

            Exit status: 0 success (or nothing to do), 1 error (a failed step, a blocked service), 2 changes \
            present or a service blocked (plan --detailed-exitcode), 3 stale or altered saved plan, 4 another \
            sslm kept the topdir's lock longer than --lock-timeout (nothing was done), 64 bad command line.
            """,
        version: SSLMVersion.current,
        subcommands: [
            PlanCommand.self, ApplyCommand.self, ShowCommand.self, StatusCommand.self, CheckCommand.self,
            RevokeCommand.self, ConfigCommand.self,
        ] + ToolCommands.all
    )
}
