import Crypto
import Foundation
import SSLMCore
import SwiftASN1
import X509
import _CryptoExtras

/// `sslm info -v`: the full decoded structure of a certificate, request or key, rendered in-process
/// (no openssl process): version, serial, signature algorithm, issuer, validity, subject, public key
/// info, every extension decoded (unknown ones as hex), signature and fingerprints. For keys, only the
/// public half is shown. Layout is sslm's own and may change; scripts should use the summary fields.
enum DecodedStructure {
    static func render(_ block: DecodedBlock) throws -> String {
        var out = Lines()
        switch block {
        case .certificate(let certificate):
            out.add(0, "Certificate:")
            out.add(1, "Version: \(certificate.version == .v3 ? 3 : 1)")
            out.add(1, "Serial Number: \(colonHex(certificate.serialNumber.bytes))")
            out.add(1, "Signature Algorithm: \(SignatureAlgorithmName.name(certificate.signatureAlgorithm))")
            out.add(1, "Issuer: \(DistinguishedNameText.rfc4514(certificate.issuer))")
            out.add(1, "Validity:")
            out.add(2, "Not Before: \(RelativeTime.utc(certificate.notValidBefore))")
            out.add(2, "Not After : \(RelativeTime.utc(certificate.notValidAfter))")
            out.add(1, "Subject: \(DistinguishedNameText.rfc4514(certificate.subject))")
            try publicKeyInfo(certificate.publicKey, into: &out)
            extensions(Array(certificate.extensions), into: &out, title: "X509v3 Extensions:")
            let selfSigned = certificate.publicKey.isValidSignature(certificate.signature, for: certificate)
            out.add(
                1,
                "Signature: \(SignatureAlgorithmName.name(certificate.signatureAlgorithm))"
                    + (selfSigned ? " (self-signed: verifies with its own key)" : ""))
            let der = try CertificatePEM.der(certificate)
            out.add(1, "Fingerprint SHA-256: \(colonHex(SHA256.hash(data: der)))")
        case .request(let request):
            out.add(0, "Certificate Request:")
            out.add(1, "Version: \(request.version == .v1 ? 1 : 0)")
            out.add(1, "Subject: \(DistinguishedNameText.rfc4514(request.subject))")
            try publicKeyInfo(request.publicKey, into: &out)
            let requested = (try? request.attributes.extensionRequest?.extensions).flatMap { $0 }
            extensions(requested.map { Array($0) } ?? [], into: &out, title: "Requested Extensions:")
            out.add(1, "Signature Algorithm: \(SignatureAlgorithmName.name(request.signatureAlgorithm))")
            let valid = request.publicKey.isValidSignature(request.signature, for: request)
            out.add(1, "Signature: \(valid ? "valid" : "INVALID")")
        case .privateKey(let key):
            out.add(0, "Private Key: \(key.spec) (private key material not shown)")
            try publicKeyInfo(key.publicKey, into: &out)
        case .publicKey(let key):
            out.add(0, "Public Key:")
            try publicKeyInfo(key, into: &out)
        case .dhParameters(let bits):
            out.add(0, "DH Parameters: (\(bits) bit)")
        }
        return out.text
    }

    static func publicKeyInfo(_ key: Certificate.PublicKey, into out: inout Lines) throws {
        out.add(1, "Subject Public Key Info:")
        switch KeySpec(publicKey: key) {
        case .ec(let curve)?: out.add(2, "Algorithm: id-ecPublicKey, curve \(curve.rawValue) (\(curve.bits) bit)")
        case .rsa(let bits)?:
            out.add(2, "Algorithm: rsaEncryption (\(bits) bit)")
            if let rsa = _RSA.Signing.PublicKey(key), let primitives = try? rsa.getKeyPrimitives() {
                out.add(2, "Exponent: \(exponentText(Array(primitives.publicExponent)))")
            }
        case .ed25519?: out.add(2, "Algorithm: ED25519")
        case nil: out.add(2, "Algorithm: unknown")
        }
        out.add(2, "Public Key:")
        for line in hexLines(Array(key.subjectPublicKeyInfoBytes)) { out.add(3, line) }
        out.add(2, "SPKI SHA-256: \(Hex.encode(SHA256.hash(data: try key.spkiDER())))")
    }

    static func extensions(_ list: [Certificate.Extension], into out: inout Lines, title: String) {
        guard !list.isEmpty else { return }
        out.add(1, title)
        for ext in list {
            let critical = ext.critical ? " (critical)" : ""
            switch ext.oid {
            case .X509ExtensionID.basicConstraints:
                let value = (try? BasicConstraints(ext)).map(basicConstraintsText) ?? "undecodable"
                out.add(2, "Basic Constraints\(critical): \(value)")
            case .X509ExtensionID.keyUsage:
                let value = (try? KeyUsage(ext)).map(keyUsageText) ?? "undecodable"
                out.add(2, "Key Usage\(critical): \(value)")
            case .X509ExtensionID.extendedKeyUsage:
                let value = (try? ExtendedKeyUsage(ext)).map { $0.map(\.description).joined(separator: ", ") }
                out.add(2, "Extended Key Usage\(critical): \(value ?? "undecodable")")
            case .X509ExtensionID.subjectKeyIdentifier:
                let value = (try? SubjectKeyIdentifier(ext)).map { colonHex($0.keyIdentifier) }
                out.add(2, "Subject Key Identifier\(critical): \(value ?? "undecodable")")
            case .X509ExtensionID.authorityKeyIdentifier:
                let value = (try? AuthorityKeyIdentifier(ext)).map { aki in
                    aki.keyIdentifier.map { "keyid " + colonHex($0) } ?? "no key id"
                }
                out.add(2, "Authority Key Identifier\(critical): \(value ?? "undecodable")")
            case .X509ExtensionID.subjectAlternativeName:
                let value = (try? SubjectAlternativeNames(ext)).map { names in
                    names.map(generalNameText).joined(separator: ", ")
                }
                out.add(2, "Subject Alternative Name\(critical): \(value ?? "undecodable")")
            default:
                out.add(2, "\(ext.oid)\(critical):")
                for line in hexLines(Array(ext.value)) { out.add(3, line) }
            }
        }
    }

    static func basicConstraintsText(_ value: BasicConstraints) -> String {
        switch value {
        case .isCertificateAuthority(let length): "CA:TRUE" + (length.map { ", pathlen:\($0)" } ?? "")
        case .notCertificateAuthority: "CA:FALSE"
        }
    }

    static func keyUsageText(_ usage: KeyUsage) -> String {
        var names: [String] = []
        if usage.digitalSignature { names.append("Digital Signature") }
        if usage.nonRepudiation { names.append("Non Repudiation") }
        if usage.keyEncipherment { names.append("Key Encipherment") }
        if usage.dataEncipherment { names.append("Data Encipherment") }
        if usage.keyAgreement { names.append("Key Agreement") }
        if usage.keyCertSign { names.append("Certificate Sign") }
        if usage.cRLSign { names.append("CRL Sign") }
        if usage.encipherOnly { names.append("Encipher Only") }
        if usage.decipherOnly { names.append("Decipher Only") }
        return names.joined(separator: ", ")
    }

    static func generalNameText(_ name: GeneralName) -> String {
        switch name {
        case .dnsName(let value): return "DNS:\(value)"
        case .rfc822Name(let value): return "email:\(value)"
        case .uniformResourceIdentifier(let value): return "URI:\(value)"
        case .ipAddress:
            return "IP Address:" + (AlternativeName(generalName: name)?.description ?? "?")
        case .directoryName(let dn): return "DirName:\(DistinguishedNameText.rfc4514(dn))"
        default: return String(describing: name)
        }
    }

    static func exponentText(_ bytes: [UInt8]) -> String {
        var value: UInt64 = 0
        for byte in bytes.suffix(8) { value = value << 8 | UInt64(byte) }
        return "\(value) (0x\(String(value, radix: 16)))"
    }

    static func colonHex(_ bytes: some Sequence<UInt8>) -> String { Hex.colonSeparated(bytes) }

    static func hexLines(_ bytes: [UInt8]) -> [String] {
        stride(from: 0, to: bytes.count, by: 16).map { start in
            colonHex(bytes[start..<min(start + 16, bytes.count)])
        }
    }

    struct Lines {
        var items: [String] = []
        mutating func add(_ level: Int, _ text: String) {
            items.append(String(repeating: "    ", count: level) + text)
        }
        var text: String { items.joined(separator: "\n") + "\n" }
    }
}

/// Reads the bit length of the prime of PKCS#3 DH parameters (display only).
enum DHParameterProbe {
    static func primeBits(_ der: [UInt8]) -> Int? {
        guard let root = try? DER.parse(der) else { return nil }
        var bits: Int?
        _ = try? DER.sequence(root, identifier: .sequence) { nodes in
            guard let prime = nodes.next(), case .primitive(let bytes) = prime.content else { return }
            let trimmed = bytes.drop(while: { $0 == 0 })
            if let first = trimmed.first {
                bits = (trimmed.count - 1) * 8 + (8 - first.leadingZeroBitCount)
            }
            while nodes.next() != nil {}
        }
        return bits
    }
}
