import ArgumentParser
import Foundation
import SSLMApply
import SSLMCore
import SSLMPlan

/// The ssl-mgr command line (`sslm-mgr -renew`, `-roll`, `-s`, `dev -keys …`), selected when sslm runs
/// under the name `sslm-mgr` (a symlink is all an install needs). Each invocation is mapped onto a plan
/// with the matching phase and options, which is printed and then applied.
///
/// Differences from ssl-mgr, on purpose: the exit status means something (0 done, 1 error or a failed
/// step); `-dns` refreshes DNS; `dev -keys`, `-csr` and `-cert` (alone or together) make a complete new
/// `next` instead of an empty one; `-d` and `-n` show the plan without applying it.
struct LegacyCommandLine {
    struct Options: Equatable {
        var dev = false
        var renew = false
        var roll = false
        var status = false
        var force = false
        var reuse = false
        var debug = false
        var dryRun = false
        var test = false
        var verbose = false
        var dnsRefresh = false
        var cleanAll = false
        var cleanKeep: Int?
        var minRollMinutes: Int?
        var newKeys = false, newCSR = false, newCert = false, copyCSR = false
        var nextToCurr = false, certsToProd = false, forceServerRestarts = false
        var topdir: String?
        var help = false
        var targets: [String] = []
    }

    /// Parses ssl-mgr's arguments (without argv[0]); single- and double-dash spellings as ssl-mgr has them.
    static func parse(_ arguments: [String]) throws -> Options {
        var options = Options()
        var rest = arguments[...]
        if rest.first == "dev" {
            options.dev = true
            rest = rest.dropFirst()
        }
        var iterator = rest.makeIterator()
        func value(_ name: String) throws -> String {
            guard let next = iterator.next() else { throw CLIError("\(name) needs a value") }
            return next
        }
        func integer(_ name: String) throws -> Int {
            let text = try value(name)
            guard let number = Int(text) else {
                throw CLIError("\(name): \"\(SafeName.printable(text))\" is not a whole number")
            }
            return number
        }
        while let argument = iterator.next() {
            switch argument {
            case "-h", "--help": options.help = true
            case "-renew", "--renew": options.renew = true
            case "-roll", "--roll": options.roll = true
            case "-s", "--status": options.status = true
            case "-f", "--force": options.force = true
            case "-r", "--reuse": options.reuse = true
            case "-d", "--debug": options.debug = true
            case "-n", "--dry-run": options.dryRun = true
            case "-t", "--test": options.test = true
            case "-v", "--verb": options.verbose = true
            case "-dns", "--dns-refresh": options.dnsRefresh = true
            case "-clean-all", "--clean-all": options.cleanAll = true
            case "-clean-keep", "--clean-keep": options.cleanKeep = try integer(argument)
            case "-roll-mins", "--min-roll-mins": options.minRollMinutes = try integer(argument)
            case "--topdir": options.topdir = try value(argument)
            case "-keys", "--new-keys", "-csr", "--new-csr", "-cert", "--new-cert", "-copy", "--copy-csr", "-ntoc",
                "--next-to-curr", "-certs-prod", "--certs-to-prod", "-fsr", "--force-server-restarts":
                guard options.dev else {
                    throw CLIError("unknown option \(argument) (dev options need \"dev\" as the first argument)")
                }
                switch argument {
                case "-keys", "--new-keys": options.newKeys = true
                case "-csr", "--new-csr": options.newCSR = true
                case "-cert", "--new-cert": options.newCert = true
                case "-copy", "--copy-csr": options.copyCSR = true
                case "-ntoc", "--next-to-curr": options.nextToCurr = true
                case "-certs-prod", "--certs-to-prod": options.certsToProd = true
                default: options.forceServerRestarts = true
                }
            default:
                if argument.hasPrefix("-") {
                    throw CLIError(
                        "unknown option \(SafeName.printable(argument))"
                            + (options.dev ? "" : " (dev options need \"dev\" as the first argument)"))
                }
                options.targets.append(argument)
            }
        }
        if let keep = options.cleanKeep, keep < 1 { options.cleanKeep = 1 }
        if let minutes = options.minRollMinutes, minutes < 0 {
            throw CLIError("-roll-mins: expected 0 or more minutes, found \(minutes)")
        }
        return options
    }

    /// What the options ask the planner for; nil when nothing is to be planned (only `-s`).
    static func planning(_ options: Options) -> (phase: Phase, force: Bool, reuse: Bool)? {
        let forcedRenew = options.newKeys || options.newCSR || options.newCert
        let renew = options.renew || forcedRenew || options.copyCSR
        let roll = options.roll || options.nextToCurr
        let forcedRoll = options.nextToCurr
        let housekeeping = options.certsToProd || options.forceServerRestarts || options.dnsRefresh || options.cleanAll
        let phase: Phase
        switch (renew, roll) {
        case (true, true): phase = .all
        case (true, false): phase = .renew
        case (false, true): phase = .roll
        case (false, false):
            guard housekeeping else { return nil }
            phase = .roll  // builds nothing; production, restarts, DNS and clean follow the flags
        }
        return (phase, options.force || forcedRenew || forcedRoll, options.reuse || options.copyCSR)
    }

    /// ssl-mgr's `-renew -roll -f` and `dev -keys|-csr|-cert -ntoc`: `-f` skips the expiry decision and the
    /// minimum age, so a new certificate is made and becomes curr in the same run (a pending next is
    /// replaced).
    static func replacesNow(_ options: Options) -> Bool {
        let renews = options.renew || options.newKeys || options.newCSR || options.newCert
        let forcedRenew = (options.renew && options.force) || options.newKeys || options.newCSR || options.newCert
        let forcedRoll = (options.roll && options.force) || options.nextToCurr
        return renews && forcedRenew && forcedRoll
    }

    static let usage = """
        usage: sslm-mgr [-renew] [-roll] [-s] [-f] [-r] [-t] [-n] [-d] [-v] [-dns] [-roll-mins N]
                        [-clean-keep N] [-clean-all] [--topdir DIR] [group:svc1,svc2 | group:ALL …]
               sslm-mgr dev [the options above] [-keys] [-csr] [-cert] [-copy] [-ntoc] [-certs-prod] [-fsr] …

        The ssl-mgr command line, run by sslm (see `sslm --help`): -renew makes new next certificates that are
        due, -roll makes next curr once it is old enough (min_roll_mins), -s prints the status; -f forces, -r
        reuses the current key. dev: -keys/-csr/-cert make a new next now, -ntoc rolls now, -certs-prod copies
        everything to production and the servers, -fsr restarts every server and refreshes DNS.
        -d and -n print the plan without applying it. Exit status: 0 done, 1 error, a failed step or a blocked
        service, 4 another sslm kept the topdir's lock for 300 s (nothing was done).
        """

    /// Runs the front end; returns the exit status.
    static func run(_ arguments: [String]) async -> Int32 {
        do {
            let options = try parse(arguments)
            if options.help {
                print(usage)
                return 0
            }
            return try await execute(options)
        } catch let error as CLIError {
            Console.error("sslm-mgr: \(error.description)")
            return 1
        } catch let exit as ExitCode {
            return exit.rawValue
        } catch {
            Console.error("sslm-mgr: \(error)")
            return 1
        }
    }

    private static func execute(_ options: Options) async throws -> Int32 {
        // A run that may write takes the lock before it observes (`WriterLock`); -s, -d and -n only read.
        let writes = planning(options) != nil && !options.debug && !options.dryRun
        let lock =
            writes
            ? try await WriterLock.acquire(
                topdirOption: options.topdir, test: options.test,
                seconds: WriterLock.defaultTimeoutSeconds)
            : nil
        var session = try PlanSession.open(
            topdirOption: options.topdir, targetArguments: options.targets, now: nil,
            gatherDNS: planning(options) != nil, observeAll: options.cleanAll,
            test: options.test, lock: lock)
        if planning(options) != nil { session = await session.withRenewalInfo(verbose: options.verbose) }
        if options.status {
            let report = StatusReport.make(session: session)
            print(report.text(verbose: options.verbose || session.config.globals.verbose), terminator: "")
        }
        guard let (phase, force, reuse) = planning(options) else { return 0 }
        var request = session.request(
            phase: phase, force: force, reuseKey: reuse, minRollMinutes: options.minRollMinutes)
        request.cleanKeep = options.cleanKeep
        request.cleanAll = options.cleanAll
        request.forceProductionSync = options.certsToProd
        request.forceRestarts = options.forceServerRestarts
        request.forceDNSRefresh = options.dnsRefresh
        request.replaceNow = replacesNow(options)
        let plan = Planner.plan(request)
        print(PlanView.render(plan, topdir: session.topdir, verbose: options.verbose), terminator: "")
        if options.debug || options.dryRun {
            print("(-d/-n: not applied)")
            return 0
        }
        let blocked = plan.blockedNotes
        for note in blocked { Console.error("sslm-mgr: blocked: \(note.subject): \(note.reason.message)") }
        guard !plan.isEmpty else { return blocked.isEmpty ? 0 : 1 }
        let (report, _) = try await session.execute(plan, verbose: options.verbose)
        print(ApplyView.render(report, plan: plan), terminator: "")
        return report.succeeded && blocked.isEmpty ? 0 : 1
    }
}
