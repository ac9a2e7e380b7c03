import Foundation
import SSLMCore
import SSLMDeploy
import SSLMPKI
import X509

/// Connects to a TLS server and returns the certificate chain it presents, leaf first. No trust decision:
/// the chain is compared with TLSA records and with sslm's files by the caller.
public protocol TLSProbe: Sendable {
    /// The served chain, or a sentence saying why there is none (refused, timed out, no TLS).
    func servedChain(connect: NameserverAddress, serverName: String, startTLS: String?, timeoutSeconds: Double) async
        -> Result<[Certificate], SSLMError>
}

/// The real `TLSProbe`: `openssl s_client -connect ADDR:PORT -servername HOST -showcerts [-starttls P]` as an
/// argv (no shell) through a `CommandRunner` with a timeout, stdin from /dev/null (it closes after the
/// handshake), the printed PEM blocks parsed in order.
public struct OpenSSLTLSProbe: TLSProbe {
    public var runner: any CommandRunner
    public var openssl: String

    public init(runner: any CommandRunner = ProcessCommandRunner(), openssl: String = "openssl") {
        self.runner = runner
        self.openssl = openssl
    }

    /// The argv for one probe. An IP-literal `serverName` is not sent as SNI (RFC 6066 §3 allows host names only).
    public func argv(connect: NameserverAddress, serverName: String, startTLS: String?) -> [String] {
        var argv = [openssl, "s_client", "-connect", connect.description]
        if HostName.isIPv4(serverName) || HostName.isIPv6(serverName) {
            argv.append("-noservername")
        } else {
            argv += ["-servername", serverName]
        }
        argv.append("-showcerts")
        if let startTLS { argv += ["-starttls", startTLS] }
        return argv
    }

    public func servedChain(connect: NameserverAddress, serverName: String, startTLS: String?, timeoutSeconds: Double)
        async -> Result<[Certificate], SSLMError>
    {
        let command = Command(
            argv(connect: connect, serverName: serverName, startTLS: startTLS),
            timeout: .milliseconds(Int(max(0.1, timeoutSeconds) * 1000)))
        let result = await runner.run(command)
        let chain: [Certificate]
        do {
            chain = try Self.certificates(in: result.output)
        } catch let error as SSLMError {
            return .failure(error)
        } catch {
            return .failure(
                SSLMError(.malformedInput, "openssl s_client printed an unreadable chain", underlying: error))
        }
        guard !chain.isEmpty else {
            let how = startTLS.map { " (STARTTLS \($0))" } ?? ""
            let why = Self.lastErrorLine(result.output) ?? result.failureReason ?? "no certificate in the handshake"
            return .failure(SSLMError(.ioFailure, "no TLS handshake with \(connect)\(how): \(why)"))
        }
        return .success(chain)
    }

    /// The certificates of the `-----BEGIN CERTIFICATE-----` blocks of `output`, in order.
    public static func certificates(in output: String) throws -> [Certificate] {
        var blocks: [String] = []
        var current: [Substring]?
        for line in output.split(whereSeparator: \.isNewline) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed == "-----BEGIN CERTIFICATE-----" {
                current = [line]
            } else if var open = current {
                open.append(line)
                if trimmed == "-----END CERTIFICATE-----" {
                    blocks.append(open.joined(separator: "\n") + "\n")
                    current = nil
                } else {
                    current = open
                }
            }
        }
        guard !blocks.isEmpty else { return [] }
        return try CertificatePEM.decodeAll(Array(blocks.joined().utf8), file: "openssl s_client output")
    }

    /// The most telling line of a failed s_client run (`connect:errno=111`, `… alert …`, `Didn't find STARTTLS`).
    static func lastErrorLine(_ output: String) -> String? {
        let lines = output.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
        let telling = lines.last { line in
            line.contains("errno") || line.contains("error") || line.contains("Didn't find") || line.contains("alert")
                || line.contains("refused") || line.contains("timed out")
        }
        return (telling ?? lines.last).map { String($0.prefix(300)) }
    }
}
