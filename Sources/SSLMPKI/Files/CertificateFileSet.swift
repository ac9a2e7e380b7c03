import Foundation
import SSLMCore
import X509

/// The files of one `db/<timestamp>` directory (spec §3.3), composed for the three ways a certificate is
/// made, and written atomically.
///
/// Composition: `chain.pem` is the cert itself for a self-signed cert, the signing CA's `fullchain.pem`
/// for a local CA, and what the ACME server returned for ACME; `fullchain.pem` is the cert for a
/// self-signed cert and cert + chain otherwise; `bundle.pem` is the private key PEM followed by
/// `fullchain.pem`. `privkey.pem` and `bundle.pem` are created with mode 0600.
/// The executor writes each file from exactly one action, so each piece also has its own writer.
public struct CertificateFileSet: Sendable, Hashable {
    /// File names inside a db directory.
    public enum Name {
        public static let privateKey = "privkey.pem"
        public static let request = "csr.pem"
        public static let certificate = "cert.pem"
        public static let chain = "chain.pem"
        public static let fullchain = "fullchain.pem"
        public static let bundle = "bundle.pem"
        public static let tlsa = "tlsa.rr"
    }

    public var privateKeyPEM: String
    public var requestPEM: String?
    public var certificatePEM: String
    public var chainPEM: String
    public var fullchainPEM: String

    /// `bundle.pem`: key then fullchain.
    public var bundlePEM: String { Self.bundle(privateKeyPEM: privateKeyPEM, fullchainPEM: fullchainPEM) }

    public init(
        privateKeyPEM: String, requestPEM: String?, certificatePEM: String, chainPEM: String,
        fullchainPEM: String
    ) {
        self.privateKeyPEM = privateKeyPEM
        self.requestPEM = requestPEM
        self.certificatePEM = certificatePEM
        self.chainPEM = chainPEM
        self.fullchainPEM = fullchainPEM
    }

    /// Self-signed: chain = fullchain = the certificate (single copy).
    public static func selfSigned(key: KeyPair, request: CertificateSigningRequest?, certificate: Certificate) throws
        -> CertificateFileSet
    {
        let certPEM = try CertificatePEM.encode(certificate)
        return CertificateFileSet(
            privateKeyPEM: try key.pkcs8PEM(), requestPEM: try request.map(CertificateRequestBuilder.pem),
            certificatePEM: certPEM, chainPEM: certPEM, fullchainPEM: certPEM)
    }

    /// Signed by a local CA: chain = the CA's `fullchain.pem` as it is; fullchain = cert + chain.
    public static func signedByLocalCA(
        key: KeyPair, request: CertificateSigningRequest?, certificate: Certificate, signerFullchainPEM: String
    ) throws -> CertificateFileSet {
        let certPEM = try CertificatePEM.encode(certificate)
        let chain = normalized(signerFullchainPEM)
        return CertificateFileSet(
            privateKeyPEM: try key.pkcs8PEM(), requestPEM: try request.map(CertificateRequestBuilder.pem),
            certificatePEM: certPEM, chainPEM: chain, fullchainPEM: certPEM + chain)
    }

    /// Issued by an ACME CA: the PEM texts as downloaded (cert, chain, fullchain), kept byte for byte.
    public static func issuedByACME(
        key: KeyPair, request: CertificateSigningRequest?, certificatePEM: String, chainPEM: String,
        fullchainPEM: String
    ) throws -> CertificateFileSet {
        CertificateFileSet(
            privateKeyPEM: try key.pkcs8PEM(), requestPEM: try request.map(CertificateRequestBuilder.pem),
            certificatePEM: certificatePEM, chainPEM: chainPEM, fullchainPEM: fullchainPEM)
    }

    /// Writes all files into `directory` (which must exist; below `root` without following symlinks).
    public func write(to directory: String, root: String? = nil) throws {
        try AtomicFile.write(
            text: privateKeyPEM, to: directory + "/" + Name.privateKey, mode: AtomicFile.privateMode, root: root)
        if let requestPEM {
            try AtomicFile.write(text: requestPEM, to: directory + "/" + Name.request, root: root)
        }
        try Self.writeCertificates(
            certificatePEM: certificatePEM, chainPEM: chainPEM, fullchainPEM: fullchainPEM, to: directory, root: root)
        try AtomicFile.write(
            text: bundlePEM, to: directory + "/" + Name.bundle, mode: AtomicFile.privateMode, root: root)
    }

    /// Writes `cert.pem`, `chain.pem` and `fullchain.pem` (the `sign_local` / `finalize_order` outputs).
    public static func writeCertificates(
        certificatePEM: String, chainPEM: String, fullchainPEM: String,
        to directory: String, root: String? = nil
    ) throws {
        try AtomicFile.write(text: certificatePEM, to: directory + "/" + Name.certificate, root: root)
        try AtomicFile.write(text: chainPEM, to: directory + "/" + Name.chain, root: root)
        try AtomicFile.write(text: fullchainPEM, to: directory + "/" + Name.fullchain, root: root)
    }

    /// Writes `bundle.pem` (0600) from the `privkey.pem` and `fullchain.pem` already in `directory`
    /// (the `write_bundle` action), after checking that the key belongs to the first certificate.
    public static func writeBundle(in directory: String, root: String? = nil) throws {
        let keyPath = directory + "/" + Name.privateKey
        let fullchainPath = directory + "/" + Name.fullchain
        let keyText = String(decoding: try FileBytes.read(keyPath), as: UTF8.self)
        let fullchainBytes = try FileBytes.read(fullchainPath)
        let key = try KeyPair(pem: keyText, file: keyPath)
        guard let leaf = try CertificatePEM.decodeAll(fullchainBytes, file: fullchainPath).first else {
            throw SSLMError(.malformedInput, "\(fullchainPath): no certificate")
        }
        guard key.matches(leaf.publicKey) else {
            throw SSLMError(
                .keyMismatch, "\(keyPath): the key does not belong to the first certificate of \(fullchainPath)")
        }
        let text = bundle(privateKeyPEM: keyText, fullchainPEM: String(decoding: fullchainBytes, as: UTF8.self))
        try AtomicFile.write(
            text: text, to: directory + "/" + Name.bundle, mode: AtomicFile.privateMode, root: root)
    }

    static func bundle(privateKeyPEM: String, fullchainPEM: String) -> String {
        normalized(privateKeyPEM) + fullchainPEM
    }

    static func normalized(_ pem: String) -> String {
        pem.isEmpty || pem.hasSuffix("\n") ? pem : pem + "\n"
    }
}
