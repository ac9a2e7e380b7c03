import SSLMCore
import SwiftASN1
import X509

/// PEM encoding and decoding of certificates and certificate lists (`cert.pem`, `chain.pem`,
/// `fullchain.pem`), with errors naming the file. Decoding checks structure only, not trust.
public enum CertificatePEM {
    /// `-----BEGIN CERTIFICATE-----` text of one certificate.
    public static func encode(_ certificate: Certificate) throws -> String {
        try PEMBlock(label: "CERTIFICATE", derBytes: der(certificate)).pemText
    }

    /// The concatenated PEM of several certificates, in order.
    public static func encode(_ certificates: [Certificate]) throws -> String {
        try certificates.map(encode).joined()
    }

    /// DER bytes of a certificate.
    public static func der(_ certificate: Certificate) throws -> [UInt8] {
        do {
            var serializer = DER.Serializer()
            try serializer.serialize(certificate)
            return serializer.serializedBytes
        } catch {
            throw SSLMError(.cryptoFailure, "cannot encode a certificate", underlying: error)
        }
    }

    /// Decodes one certificate block.
    public static func decode(_ block: PEMBlock, file: String, index: Int = 0) throws -> Certificate {
        guard block.label == "CERTIFICATE" || block.label == "TRUSTED CERTIFICATE" else {
            throw SSLMError(.malformedInput, "\(file): block \(index + 1) is \(block.label), expected CERTIFICATE")
        }
        do {
            return try Certificate(derEncoded: block.derBytes)
        } catch {
            throw SSLMError(
                .malformedInput,
                "\(file): certificate \(index + 1) cannot be decoded (damaged or unsupported key type)",
                underlying: error)
        }
    }

    /// All certificates of PEM bytes; any non-certificate block is an error.
    public static func decodeAll(_ bytes: [UInt8], file: String) throws -> [Certificate] {
        let blocks = try PEMBlock.parseAll(bytes, file: file)
        return try blocks.enumerated().map { try decode($0.element, file: file, index: $0.offset) }
    }

    /// All certificates of the file at `path`.
    public static func read(path: String) throws -> [Certificate] {
        try decodeAll(FileBytes.read(path), file: path)
    }
}
