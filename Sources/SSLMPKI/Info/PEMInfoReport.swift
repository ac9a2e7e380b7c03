import Foundation
import SSLMCore
import X509

/// The text of `sslm info` for one input (spec §1.5): for each PEM block, a line of 70 dashes, the file
/// name, a blank line and the block's fields — `Expires`, `Issued`, `Issuer`, `Subject`, `Sans`,
/// `Pubkey`, `Sig algo` for certificates; `Subject`, `Sans`, `Pubkey`, `Sig algo` for requests;
/// `Key algo` for keys. With `verbose`, the full decoded structure follows each summary
/// (`DecodedStructure`), rendered in-process.
///
/// Inputs are checked: a truncated block, binary data, a block that does not decode, or a bundle (a file
/// with a private key and certificates) whose key is not first or does not match the first certificate,
/// or whose certificates are not in issuing order, is an error naming the file. Private key material is
/// never rendered.
public enum PEMInfoReport {
    public static let separator = String(repeating: "-", count: 70)

    public static func render(bytes: [UInt8], file: String, now: Date, verbose: Bool) throws -> String {
        let blocks = try PEMBlock.parseAll(bytes, file: file)
        var decoded: [DecodedBlock] = []
        for (index, block) in blocks.enumerated() {
            decoded.append(try DecodedBlock(block: block, file: file, index: index))
        }
        try checkBundleOrder(decoded, file: file)
        var out = ""
        for block in decoded {
            out += separator + "\n" + file + "\n\n"
            out += try summary(block, now: now)
            if verbose {
                out += "\n" + (try DecodedStructure.render(block))
            }
        }
        return out
    }

    /// The summary fields of one decoded block.
    static func summary(_ block: DecodedBlock, now: Date) throws -> String {
        var lines: [String] = []
        switch block {
        case .certificate(let certificate):
            let facts = try CertificateFacts(certificate)
            lines += timeLines(facts: facts, now: now)
            lines.append(field("Issuer", facts.issuer))
            lines.append(field("Subject", facts.subject))
            if !facts.sans.isEmpty { lines.append(sansLine(facts.sans)) }
            lines.append(field("Pubkey", facts.publicKeyLabel))
            lines.append(field("Sig algo", facts.signatureAlgorithm))
        case .request(let request):
            lines.append(field("Subject", DistinguishedNameText.rfc4514(request.subject)))
            let sans = requestNames(request)
            if !sans.isEmpty { lines.append(sansLine(sans)) }
            lines.append(field("Pubkey", PublicKeyLabel.label(request.publicKey)))
            lines.append(field("Sig algo", SignatureAlgorithmName.name(request.signatureAlgorithm)))
        case .privateKey(let key):
            lines.append(field("Key algo", key.label))
        case .publicKey(let key):
            lines.append(field("Pubkey", PublicKeyLabel.label(key)))
        case .dhParameters(let bits):
            lines.append(field("DH params", "\(bits) bit"))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func timeLines(facts: CertificateFacts, now: Date) -> [String] {
        let left = facts.notAfter.timeIntervalSince(now)
        let expires =
            left >= 0
            ? "\(RelativeTime.utc(facts.notAfter)) (\(RelativeTime.duration(left)))"
            : "\(RelativeTime.utc(facts.notAfter)) (expired \(RelativeTime.duration(left)) ago)"
        let age = now.timeIntervalSince(facts.notBefore)
        let issuedRelative =
            age >= 0 ? "(\(RelativeTime.duration(age)) ago)" : "(not yet valid, in \(RelativeTime.duration(age)))"
        return [
            field("Expires", expires),
            field("Issued", "\(RelativeTime.utc(facts.notBefore)) \(issuedRelative) (\(facts.lifetimeDays) day cert)"),
        ]
    }

    static func field(_ label: String, _ value: String) -> String {
        label.padding(toLength: 9, withPad: " ", startingAt: 0) + ": " + value
    }

    /// `Sans     : a, b, c` wrapped after ~60 characters with an 11-space leader.
    static func sansLine(_ names: [String]) -> String {
        var lines: [String] = []
        var current = ""
        for (index, name) in names.enumerated() {
            let piece = name + (index < names.count - 1 ? "," : "")
            if !current.isEmpty && current.count + piece.count + 1 > 60 {
                lines.append(current)
                current = piece
            } else {
                current += (current.isEmpty ? "" : " ") + piece
            }
        }
        if !current.isEmpty { lines.append(current) }
        return field("Sans", lines.joined(separator: "\n" + String(repeating: " ", count: 11)))
    }

    static func requestNames(_ request: CertificateSigningRequest) -> [String] {
        guard let names = try? request.attributes.extensionRequest?.extensions.subjectAlternativeNames else {
            return []
        }
        let typed = names.compactMap(AlternativeName.init(generalName:))
        let dns = typed.filter { if case .dnsName = $0 { return true } else { return false } }
        let ips = typed.filter { if case .ipAddress = $0 { return true } else { return false } }
        return (dns + ips).map(\.description)
    }

    /// A file holding a private key and certificates must be a bundle: key first, matching the first
    /// certificate, certificates in issuing order.
    static func checkBundleOrder(_ blocks: [DecodedBlock], file: String) throws {
        let keys = blocks.enumerated().compactMap { item -> (Int, KeyPair)? in
            if case .privateKey(let key) = item.element { return (item.offset, key) } else { return nil }
        }
        let certificates = blocks.compactMap { block -> Certificate? in
            if case .certificate(let certificate) = block { return certificate } else { return nil }
        }
        guard let (keyIndex, key) = keys.first, !certificates.isEmpty else { return }
        guard keyIndex == 0, keys.count == 1 else {
            throw SSLMError(
                .malformedInput,
                "\(file): bundle in the wrong order: the private key must come first, "
                    + "followed by the certificate and its chain")
        }
        guard key.matches(certificates[0].publicKey) else {
            throw SSLMError(.keyMismatch, "\(file): the private key does not match the first certificate of the bundle")
        }
        for index in certificates.indices.dropLast() where certificates[index].issuer != certificates[index + 1].subject
        {
            throw SSLMError(
                .malformedInput,
                "\(file): bundle in the wrong order: certificate \(index + 1) is not issued "
                    + "by certificate \(index + 2)")
        }
    }
}

/// One PEM block decoded into the object it holds.
enum DecodedBlock {
    case certificate(Certificate)
    case request(CertificateSigningRequest)
    case privateKey(KeyPair)
    case publicKey(Certificate.PublicKey)
    case dhParameters(bits: Int)

    init(block: PEMBlock, file: String, index: Int) throws {
        let label = block.label
        if label.contains("PRIVATE KEY") {
            self = .privateKey(try KeyPair(block: block, file: file))
        } else if label == "PUBLIC KEY" {
            do {
                self = .publicKey(try Certificate.PublicKey(derEncoded: block.derBytes))
            } catch {
                throw SSLMError(.malformedInput, "\(file): block \(index + 1) (PUBLIC KEY) cannot be decoded")
            }
        } else if label.contains("REQUEST") {
            do {
                self = .request(try CertificateSigningRequest(derEncoded: block.derBytes))
            } catch {
                throw SSLMError(.malformedInput, "\(file): block \(index + 1) (\(label)) cannot be decoded")
            }
        } else if label == "DH PARAMETERS" {
            self = .dhParameters(bits: DHParameterProbe.primeBits(block.derBytes) ?? 0)
        } else {
            self = .certificate(
                try CertificatePEM.decode(
                    PEMBlock(label: "CERTIFICATE", derBytes: block.derBytes), file: file, index: index))
        }
    }
}
