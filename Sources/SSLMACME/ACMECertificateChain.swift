import SwiftASN1
import X509

/// A downloaded certificate chain: the PEM exactly as the server sent it (leaf first, then
/// intermediates) and its parsed certificates. Parsing does not verify it: use `ACMEChainCheck`.
public struct ACMECertificateChain: Sendable {
    public var pem: String
    public var certificates: [Certificate]
    /// The common name of the issuer of the last certificate (the chain's root), if it has one.
    public var rootIssuerCommonName: String?
    /// How many alternate chains the server offered (`Link: rel="alternate"`).
    public var alternateCount: Int

    /// Parses a PEM chain; at least one certificate and nothing but certificates.
    public init(pem: String, alternateCount: Int = 0) throws {
        let documents: [PEMDocument]
        do {
            documents = try PEMDocument.parseMultiple(pemString: pem)
        } catch {
            throw ACMEError(.badResponse, "the certificate chain is not valid PEM (\(error))")
        }
        guard !documents.isEmpty else { throw ACMEError(.badResponse, "the certificate chain holds no certificate") }
        var certificates: [Certificate] = []
        for (index, document) in documents.enumerated() {
            guard document.discriminator == "CERTIFICATE" else {
                throw ACMEError(.badResponse,
                                "block \(index + 1) of the certificate chain is a \(document.discriminator), not a CERTIFICATE")
            }
            do {
                certificates.append(try Certificate(derEncoded: document.derBytes))
            } catch {
                throw ACMEError(.badResponse, "certificate \(index + 1) of the chain does not parse (\(error))")
            }
        }
        self.pem = pem
        self.certificates = certificates
        self.rootIssuerCommonName = certificates.last.flatMap { Self.commonName($0.issuer) }
        self.alternateCount = alternateCount
    }

    init(pem body: [UInt8], url: String, alternateCount: Int) throws {
        do {
            try self.init(pem: String(decoding: body, as: UTF8.self), alternateCount: alternateCount)
        } catch var error as ACMEError {
            error.message += " (from \(url))"
            error.url = url
            throw error
        }
    }

    /// The leaf (first) certificate.
    public var leaf: Certificate? { certificates.first }

    /// True when `name` is the CN of the top issuer (or of the last certificate itself).
    func matches(_ name: String) -> Bool {
        guard let last = certificates.last else { return false }
        return rootIssuerCommonName == name || Self.commonName(last.subject) == name
    }

    /// The first common name of a distinguished name.
    public static func commonName(_ name: DistinguishedName) -> String? {
        for rdn in name {
            for attribute in rdn where attribute.type == .RDNAttributeType.commonName {
                return attribute.value.description
            }
        }
        return nil
    }
}

/// Checks a downloaded chain before it is used: each certificate is signed by the next and names it as
/// issuer, the leaf carries our public key, and the leaf's SANs cover the requested identifiers.
/// Does not check validity dates or trust anchors (the caller's policy).
public enum ACMEChainCheck {
    /// Throws `ACMEError.chainInvalid` saying what is wrong.
    public static func verify(_ chain: ACMECertificateChain, expectedPublicKeyDER: [UInt8]?, identifiers: [String])
        throws
    {
        guard let leaf = chain.certificates.first else {
            throw ACMEError(.chainInvalid, "the certificate chain is empty")
        }
        for index in 0..<(chain.certificates.count - 1) {
            let child = chain.certificates[index]
            let parent = chain.certificates[index + 1]
            guard child.issuer == parent.subject else {
                throw ACMEError(.chainInvalid,
                                "certificate \(index + 1) (\(child.subject)) names issuer \(child.issuer) but the next "
                                + "certificate is \(parent.subject)")
            }
            guard parent.publicKey.isValidSignature(child.signature, for: child) else {
                throw ACMEError(.chainInvalid,
                                "certificate \(index + 1) (\(child.subject)) is not signed by the next certificate "
                                + "(\(parent.subject)): the server sent a broken chain")
            }
        }
        if let expectedPublicKeyDER {
            let leafSPKI: [UInt8]
            do {
                var serializer = DER.Serializer()
                try serializer.serialize(leaf.publicKey)
                leafSPKI = serializer.serializedBytes
            } catch {
                throw ACMEError(.chainInvalid, "the leaf's public key cannot be serialised (\(error))")
            }
            guard leafSPKI == expectedPublicKeyDER else {
                throw ACMEError(.chainInvalid,
                                "the leaf certificate (\(leaf.subject)) does not carry our public key: "
                                + "the CA issued for another key")
            }
        }
        let sans: [String]
        do {
            let names = try leaf.extensions.subjectAlternativeNames.map { Array($0) } ?? []
            sans = names.compactMap { name -> String? in
                switch name {
                case .dnsName(let dns): return dns.lowercased()
                case .ipAddress(let bytes): return ipText(Array(bytes.bytes))
                default: return nil
                }
            }
        } catch {
            throw ACMEError(.chainInvalid, "the leaf's subjectAltName extension does not parse (\(error))")
        }
        let missing = identifiers.filter { !sans.contains($0.lowercased()) }
        guard missing.isEmpty else {
            throw ACMEError(.chainInvalid,
                            "the leaf certificate does not cover \(missing.joined(separator: ", ")) "
                            + "(its names: \(sans.joined(separator: ", ")))")
        }
    }

    private static func ipText(_ bytes: [UInt8]) -> String? {
        if bytes.count == 4 { return bytes.map(String.init).joined(separator: ".") }
        if bytes.count == 16 {
            return stride(from: 0, to: 16, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }
                .joined(separator: ":")
        }
        return nil
    }
}
