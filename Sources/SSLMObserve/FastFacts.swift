import Foundation
import SSLMCore
import SSLMPKI
import SwiftASN1
import X509

/// The observer's hot path: PEM decoding, digests and certificate facts over bytes, for thousands of
/// files per run.
///
/// Same results as SSLMPKI's `PEMBlock.parseAll`, `CertificateFacts(_:)` and SSLMCore's
/// `ContentDigest.labelled` (the tests compare them), but: PEM is scanned as bytes (no Foundation string
/// bridging), and SubjectPublicKeyInfo and fingerprints are hashed from the DER as read instead of
/// re-encoding the parsed certificate (re-encoding an EC key converts its point to affine coordinates,
/// a modular inversion per call). Input that the fast PEM scan does not accept is handed to
/// `PEMBlock.parseAll`, so errors read the same.
enum FastFacts {
    // MARK: digests

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// `sha256:<hex>` (= `ContentDigest.labelled`).
    static func labelledDigest(_ bytes: [UInt8]) -> String { "sha256:" + sha256Hex(bytes) }

    /// Lowercase hex SHA-256 (= `ContentDigest.sha256Hex`).
    static func sha256Hex(_ bytes: [UInt8]) -> String {
        let digest = TLSARecordData.sha256(bytes)
        var out = [UInt8]()
        out.reserveCapacity(digest.count * 2)
        for byte in digest {
            out.append(hexDigits[Int(byte >> 4)])
            out.append(hexDigits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    // MARK: PEM

    /// Every PEM block of `bytes`; throws what `PEMBlock.parseAll` throws for input it rejects.
    static func pemBlocks(_ bytes: [UInt8], file: String) throws -> [PEMBlock] {
        if let blocks = scan(bytes) { return blocks }
        return try PEMBlock.parseAll(bytes, file: file)
    }

    /// The fast scan; nil for anything unusual (non-ASCII, NUL, malformed structure) — the caller then
    /// lets `PEMBlock.parseAll` decide and explain.
    private static func scan(_ bytes: [UInt8]) -> [PEMBlock]? {
        var blocks: [PEMBlock] = []
        var label: ArraySlice<UInt8>?
        var body: [UInt8] = []
        var index = 0
        let count = bytes.count
        while index < count {
            var end = index
            while end < count, bytes[end] != 0x0A { end += 1 }
            var lo = index
            var hi = end
            index = end + 1
            while lo < hi, bytes[lo] == 0x20 || bytes[lo] == 0x09 || bytes[lo] == 0x0D { lo += 1 }
            while hi > lo, bytes[hi - 1] == 0x20 || bytes[hi - 1] == 0x09 || bytes[hi - 1] == 0x0D { hi -= 1 }
            let line = bytes[lo..<hi]
            if line.contains(where: { $0 == 0 || $0 >= 0x80 || $0 == 0x0B || $0 == 0x0C }) { return nil }
            if line.isEmpty { continue }
            if line.first == UInt8(ascii: "#") { continue }
            if let begin = marker(line, "-----BEGIN ") {
                if label != nil { return nil }
                label = begin
                body.removeAll(keepingCapacity: true)
            } else if let close = marker(line, "-----END ") {
                guard let open = label, open.elementsEqual(close) else { return nil }
                guard let der = Data(base64Encoded: Data(body)), !der.isEmpty else { return nil }
                blocks.append(PEMBlock(label: String(decoding: open, as: UTF8.self), derBytes: Array(der)))
                label = nil
            } else if label != nil {
                if line.contains(UInt8(ascii: ":")) { continue }
                body.append(contentsOf: line)
            }
        }
        guard label == nil, !blocks.isEmpty else { return nil }
        return blocks
    }

    private static let dashes: [UInt8] = Array("-----".utf8)

    private static func marker(_ line: ArraySlice<UInt8>, _ prefix: String) -> ArraySlice<UInt8>? {
        let head = Array(prefix.utf8)
        guard line.count >= head.count + 5, line.starts(with: head), line.suffix(5).elementsEqual(dashes) else {
            return nil
        }
        return line[(line.startIndex + head.count)..<(line.endIndex - 5)]
    }

    // MARK: certificates and requests

    /// `CertificateFacts(certificate)`, with SPKI and fingerprint digests taken from `der`, the bytes the
    /// certificate was decoded from.
    static func certificateFacts(_ certificate: Certificate, der: [UInt8]) throws -> CertificateFacts {
        var dns: [String] = []
        var ips: [String] = []
        for name in (try? certificate.extensions.subjectAlternativeNames) ?? SubjectAlternativeNames() {
            switch AlternativeName(generalName: name) {
            case .dnsName(let value): dns.append(value)
            case .ipAddress(let value): ips.append(value)
            case nil: break
            }
        }
        var isCA = false
        if case .isCertificateAuthority = try? certificate.extensions.basicConstraints { isCA = true }
        return CertificateFacts(
            notBefore: certificate.notValidBefore,
            notAfter: certificate.notValidAfter,
            serialHex: Hex.encode(certificate.serialNumber.bytes),
            issuer: DistinguishedNameText.rfc4514(certificate.issuer),
            subject: DistinguishedNameText.rfc4514(certificate.subject),
            commonName: DistinguishedNameText.first(.RDNAttributeType.commonName, in: certificate.subject),
            dnsNames: dns,
            ipAddresses: ips,
            keySpec: KeySpec(publicKey: certificate.publicKey),
            publicKeyLabel: PublicKeyLabel.label(certificate.publicKey),
            signatureAlgorithm: SignatureAlgorithmName.name(certificate.signatureAlgorithm),
            isCA: isCA,
            isSelfSigned: certificate.issuer == certificate.subject
                && certificate.publicKey.isValidSignature(certificate.signature, for: certificate),
            spkiSHA256: sha256Hex(try EmbeddedSPKI.bytes(certificateDER: der)),
            certificateSHA256: sha256Hex(der))
    }

    /// The SubjectPublicKeyInfo bytes of a DER CSR (CertificationRequestInfo's third field), as read.
    static func requestSPKI(der: [UInt8]) throws -> [UInt8] {
        let root = try DER.parse(der)
        guard case .constructed(let outer) = root.content, let info = outer.first(where: { _ in true }),
            case .constructed(let fields) = info.content
        else { throw SSLMError(.malformedInput, "not a DER certificate request") }
        let parts = Array(fields)
        guard parts.count >= 3 else { throw SSLMError(.malformedInput, "CertificationRequestInfo is too short") }
        return Array(parts[2].encodedBytes)
    }
}
