import Dispatch
import Foundation
import SSLMCLI

/// The executable is thin: it hands argv to the CLI module.
///
/// `main` is synchronous so that a plain `sslm status` runs on this thread before the concurrency
/// runtime starts its threads (`SSLMCommandLine.runFastPath`); everything else runs as an async main
/// would: one task, the main queue served, exit status 0 when the command returns.
@main
enum SSLMMain {
    static func main() {
        SSLMCommandLine.runFastPath()
        Task {
            await SSLMCommandLine.run()
            exit(EXIT_SUCCESS)
        }
        dispatchMain()
    }
}
