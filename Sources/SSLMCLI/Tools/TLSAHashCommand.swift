import ArgumentParser
import Foundation
import SSLMCore
import SSLMPKI

/// `sslm tlsa-hash`: the DANE TLSA data of a directory's cert.pem — ssl-mgr's `sslm-tlsa-hash`.
public struct TLSAHashCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "tlsa-hash",
        abstract: "Print the TLSA 3 1 1 data (SHA-256 of the public key) of DIR/cert.pem.",
        discussion: """
            Computes the SHA-256 of the DER SubjectPublicKeyInfo of DIR/cert.pem (default: the current \
            directory) twice — from the SPKI bytes embedded in the certificate and from sslm's own encoding \
            of the decoded key — and prints

              Matched: DIR/cert.pem
              tlsa hash: <hex>

            or "** Warning: Mismatched:" with both values (exit status 1). With --all, the data for every \
            selector (0 certificate, 1 SPKI) and matching type (0 exact, 1 SHA-256, 2 SHA-512) follows as \
            "<usage> <selector> <matching> <hex>" lines with usage 3.
            """)

    @Argument(help: ArgumentHelp("Directory with cert.pem (default: ./).", valueName: "dir"))
    public var directory: String = "."

    @Flag(name: [.short, .long], help: "Also print every selector/matching-type combination.")
    public var all = false

    public init() {}

    public func run() async throws {
        try await reportingErrors {
            let path = directory.hasSuffix(".pem") ? directory : directory + "/cert.pem"
            guard let certificate = try CertificatePEM.read(path: path).first else {
                throw ToolFailure("\(path): no certificate")
            }
            let embedded = Hex.encode(try sha256(EmbeddedSPKI.bytes(certificateDER: CertificatePEM.der(certificate))))
            let computed = try TLSARecordData.hex(for: certificate, selector: 1, matchingType: 1)
            var out = ""
            if embedded == computed {
                out += "Matched: \(path)\ntlsa hash: \(computed)\n"
            } else {
                out += "** Warning: Mismatched: \(path)\n  embedded SPKI: \(embedded)\n  decoded key  : \(computed)\n"
            }
            if all {
                for selector in [0, 1] {
                    for matching in [0, 1, 2] {
                        let hex = try TLSARecordData.hex(for: certificate, selector: selector, matchingType: matching)
                        out += "3 \(selector) \(matching) \(hex)\n"
                    }
                }
            }
            ToolSupport.out(out)
            if embedded != computed { throw ExitCode(1) }
        }
    }

    private func sha256(_ bytes: [UInt8]) throws -> [UInt8] {
        TLSARecordData.sha256(bytes)
    }
}
