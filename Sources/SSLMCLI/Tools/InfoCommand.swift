import ArgumentParser
import Foundation
import SSLMCore
import SSLMPKI

/// `sslm info`: summary (or, with `-v`, the full decoded structure) of PEM certificates, chains, CSRs,
/// keys and bundles — ssl-mgr's `sslm-info`.
public struct InfoCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Show certificates, chains, CSRs, keys and bundles (PEM).",
        discussion: """
            For each PEM block of each FILE (standard input when no FILE is given): a line of dashes, the \
            file name, then

              Expires  : 2027-04-15 12:00:00 UTC (  89d 00:00:00)
              Issued   : 2027-01-15 12:00:00 UTC (   1d 00:00:00 ago) (90 day cert)
              Issuer   : CN=Example Intermediate CA,O=Example,C=US
              Subject  : CN=example.com,O=Example,C=US
              Sans     : example.com, www.example.com, 192.0.2.7
              Pubkey   : pubkey-secp384r1
              Sig algo : ecdsa-with-SHA384

            CSRs show Subject, Sans, Pubkey and Sig algo; keys show Key algo (never the key itself). With -v \
            the complete decoded structure follows (version, serial, validity, public key, every extension, \
            fingerprints), rendered by sslm itself.

            A file holding a key and certificates (bundle.pem) must have the key first, matching the first \
            certificate, and the certificates in issuing order; otherwise it is an error. Malformed input is \
            reported as one line naming the file; the other files are still shown. Exit status 1 when any \
            file failed. Relative times use SSLM_NOW (RFC 3339) when it is set.
            """)

    @Flag(
        name: [.customShort("v"), .customLong("verbose"), .customLong("verb")],
        help: "Also print the full decoded structure of each block.")
    public var verbose = false

    @Argument(help: ArgumentHelp("PEM files (default: standard input).", valueName: "file"))
    public var files: [String] = []

    public init() {}

    public func run() async throws {
        try await reportingErrors {
            let now = try ToolSupport.now()
            var failed = false
            let inputs: [(name: String, bytes: () throws -> [UInt8])] =
                files.isEmpty
                ? [("stdin", { Array(FileHandle.standardInput.readDataToEndOfFile()) })]
                : files.map { path in (path, { try FileBytes.read(path) }) }
            for input in inputs {
                do {
                    let text = try PEMInfoReport.render(
                        bytes: input.bytes(), file: input.name, now: now, verbose: verbose)
                    ToolSupport.out(text)
                } catch {
                    ToolSupport.errorLine(ToolSupport.message(error))
                    failed = true
                }
            }
            if failed { throw ExitCode(1) }
        }
    }
}
