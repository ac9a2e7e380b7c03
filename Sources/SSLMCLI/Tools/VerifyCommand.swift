import ArgumentParser
import Foundation
import SSLMCore
import SSLMPKI

/// `sslm verify`: path validation of a db directory's cert.pem against its chain.pem — ssl-mgr's
/// `sslm-verify`, made a real validation.
public struct VerifyCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Validate cert.pem against chain.pem in a certificate directory.",
        discussion: """
            DIR is a directory with cert.pem and chain.pem (e.g. certs/example.com/web/curr), or a file in \
            it. sslm checks, in order: privkey.pem (if present) matches cert.pem; bundle.pem (if present) is \
            the key followed by the full chain; cert.pem is issued by the first certificate of chain.pem (name, \
            key identifier, signature); chain.pem is in issuing order; every certificate is valid now; the \
            names are usable; then a full RFC 5280 path validation with a server-name check. The trust \
            anchor is the last certificate of chain.pem when it is self-signed (local CAs), else the system \
            trust store (ACME chains). Revocation is not checked.

            Prints "Certificate ** Verified **" or "Certificate ** Failed **" with the reason, then the \
            Certificate Info and Chain Info blocks (as sslm info). Exit status 1 on failure. "Now" is \
            SSLM_NOW (RFC 3339) when set.
            """)

    @Argument(help: ArgumentHelp("The certificate directory, or a file in it.", valueName: "dir"))
    public var path: String

    public init() {}

    public func run() async throws {
        try await reportingErrors {
            let now = try ToolSupport.now()
            let directory = try ChainVerifier.directory(for: path)
            let report = try await ChainVerifier.verify(directory: directory, now: now)
            var out = PEMInfoReport.separator + "\n"
            if let reason = report.reason {
                out += "\tCertificate ** Failed ** : \(reason)\n"
            } else {
                out += "\tCertificate ** Verified ** (anchor: \(report.anchor), at \(RelativeTime.utc(now)))\n"
            }
            out += "\nCertificate Info:\n"
            out += try PEMInfoReport.render(
                bytes: FileBytes.read(directory + "/cert.pem"), file: "cert.pem", now: now, verbose: false)
            out += "\nChain Info:\n"
            out += try PEMInfoReport.render(
                bytes: FileBytes.read(directory + "/chain.pem"), file: "chain.pem", now: now, verbose: false)
            ToolSupport.out(out)
            if let reason = report.reason {
                ToolSupport.errorLine("\(directory): verification failed: \(reason)")
                throw ExitCode(1)
            }
        }
    }
}
