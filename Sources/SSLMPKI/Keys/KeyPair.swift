import Crypto
import Foundation
import SSLMCore
import SwiftASN1
import X509
import _CryptoExtras

/// A private key sslm generated or read, with its public half: EC P-256/384/521, RSA 2048–8192 or Ed25519.
///
/// Guarantees: the key type is one of `KeySpec`'s; `pkcs8PEM()` is unencrypted PKCS#8
/// (`BEGIN PRIVATE KEY`), what ssl-mgr writes and `openssl pkey` reads. Never print or log the PEM;
/// `description` shows only the type. Not for keys of other algorithms (Ed448, DSA, brainpool curves).
public struct KeyPair: Sendable, CustomStringConvertible {
    /// What kind of key this is.
    public let spec: KeySpec
    /// The key as swift-certificates uses it for signing.
    public let privateKey: Certificate.PrivateKey

    private let rsaKey: _RSA.Signing.PrivateKey?

    /// Generates a fresh key. RSA sizes outside `KeySpec.rsaBitsRange` or not a multiple of 8 are refused
    /// with `SSLMError(.invalidArgument)`.
    public static func generate(_ spec: KeySpec) throws -> KeyPair {
        switch spec {
        case .ec(.secp256r1): return KeyPair(spec: spec, privateKey: .init(P256.Signing.PrivateKey()), rsaKey: nil)
        case .ec(.secp384r1): return KeyPair(spec: spec, privateKey: .init(P384.Signing.PrivateKey()), rsaKey: nil)
        case .ec(.secp521r1): return KeyPair(spec: spec, privateKey: .init(P521.Signing.PrivateKey()), rsaKey: nil)
        case .ed25519:
            return KeyPair(spec: spec, privateKey: .init(Curve25519.Signing.PrivateKey()), rsaKey: nil)
        case .rsa(let bits):
            guard KeySpec.rsaBitsRange.contains(bits), bits % 8 == 0 else {
                throw SSLMError(
                    .invalidArgument,
                    "RSA key size \(bits) is not supported: use a multiple of 8 between "
                        + "\(KeySpec.rsaBitsRange.lowerBound) and \(KeySpec.rsaBitsRange.upperBound)")
            }
            do {
                let key = try _RSA.Signing.PrivateKey(keySize: .init(bitCount: bits))
                return KeyPair(spec: spec, privateKey: .init(key), rsaKey: key)
            } catch {
                throw SSLMError(.cryptoFailure, "RSA-\(bits) key generation failed", underlying: error)
            }
        }
    }

    private init(spec: KeySpec, privateKey: Certificate.PrivateKey, rsaKey: _RSA.Signing.PrivateKey?) {
        self.spec = spec
        self.privateKey = privateKey
        self.rsaKey = rsaKey
    }

    /// Reads a key from PEM text: PKCS#8 (`PRIVATE KEY`), SEC1 (`EC PRIVATE KEY`) or PKCS#1
    /// (`RSA PRIVATE KEY`). `file` names the source in errors; the key material never appears in them.
    public init(pem: String, file: String) throws {
        let blocks = try PEMBlock.parseAll(Array(pem.utf8), file: file)
        guard let block = blocks.first(where: { $0.label.hasSuffix("PRIVATE KEY") }) else {
            throw SSLMError(.malformedInput, "\(file): no private key block found")
        }
        try self.init(block: block, file: file)
    }

    /// Reads a key from one decoded PEM block (see `init(pem:file:)`).
    public init(block: PEMBlock, file: String) throws {
        if block.label == "ENCRYPTED PRIVATE KEY" {
            throw SSLMError(.unsupported, "\(file): the private key is encrypted; sslm needs an unencrypted key")
        }
        let key: Certificate.PrivateKey
        var rsa: _RSA.Signing.PrivateKey?
        do {
            switch block.label {
            case "RSA PRIVATE KEY":
                let inner = try _RSA.Signing.PrivateKey(derRepresentation: block.derBytes)
                rsa = inner
                key = Certificate.PrivateKey(inner)
            case "PRIVATE KEY", "EC PRIVATE KEY":
                key = try Certificate.PrivateKey(pemDocument: PEMDocument(type: block.label, derBytes: block.derBytes))
                if block.label == "PRIVATE KEY", let pkcs8 = try? PKCS8Probe(derBytes: block.derBytes),
                    pkcs8.isRSA
                {
                    rsa = try _RSA.Signing.PrivateKey(derRepresentation: pkcs8.innerKey)
                }
            default:
                throw SSLMError(.malformedInput, "\(file): \(block.label) is not a supported private key type")
            }
        } catch let error as SSLMError {
            throw error
        } catch {
            throw SSLMError(
                .malformedInput,
                "\(file): cannot decode the private key (unsupported algorithm, RSA below 2048 "
                    + "bits, or damaged data)")
        }
        guard let spec = KeySpec(publicKey: key.publicKey) else {
            throw SSLMError(.unsupported, "\(file): unsupported private key type")
        }
        self.init(spec: spec, privateKey: key, rsaKey: rsa)
    }

    /// Reads the key file at `path`.
    public static func read(path: String) throws -> KeyPair {
        let bytes = try FileBytes.read(path)
        let blocks = try PEMBlock.parseAll(bytes, file: path)
        guard let block = blocks.first(where: { $0.label.hasSuffix("PRIVATE KEY") }) else {
            throw SSLMError(.malformedInput, "\(path): no private key block found")
        }
        return try KeyPair(block: block, file: path)
    }

    /// The public key.
    public var publicKey: Certificate.PublicKey { privateKey.publicKey }

    /// Unencrypted PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`). Secret: write it only with `AtomicFile`
    /// mode 0600, never into logs or messages.
    public func pkcs8PEM() throws -> String {
        do {
            if let rsaKey {
                return rsaKey.pkcs8PEMRepresentation.hasSuffix("\n")
                    ? rsaKey.pkcs8PEMRepresentation
                    : rsaKey.pkcs8PEMRepresentation + "\n"
            }
            let document = try privateKey.serializeAsPEM()
            guard document.discriminator == "PRIVATE KEY" else {
                throw SSLMError(.cryptoFailure, "unexpected private key encoding \(document.discriminator)")
            }
            return PEMBlock(label: "PRIVATE KEY", derBytes: document.derBytes).pemText
        } catch let error as SSLMError {
            throw error
        } catch {
            throw SSLMError(.cryptoFailure, "cannot encode the private key", underlying: error)
        }
    }

    /// Writes the key as PKCS#8 PEM to `path`, atomically, created with mode 0600 (below `root` without
    /// following symlinks, see `AtomicFile.write`).
    public func write(to path: String, root: String? = nil) throws {
        try AtomicFile.write(text: pkcs8PEM(), to: path, mode: AtomicFile.privateMode, root: root)
    }

    /// True when `publicKey` is this key's public half.
    public func matches(_ publicKey: Certificate.PublicKey) -> Bool {
        self.publicKey == publicKey
    }

    /// ssl-mgr's label for a private key: `prvkey-secp384r1`, `prvkey-rsa-4096`, `prvkey-ed25519`.
    public var label: String { "prvkey-\(spec)" }

    /// `KeyPair(secp384r1)`: the type only, never the key.
    public var description: String { "KeyPair(\(spec))" }
}

/// Minimal PKCS#8 reader to reach the inner PKCS#1 RSA key (swift-certificates keeps it internal).
private struct PKCS8Probe {
    var isRSA: Bool
    var innerKey: [UInt8]

    init(derBytes: [UInt8]) throws {
        let root = try DER.parse(derBytes)
        var isRSA = false
        var inner: [UInt8] = []
        try DER.sequence(root, identifier: .sequence) { nodes in
            _ = try Int(derEncoded: &nodes)
            let algorithm = try DER.sequence(of: ASN1Any.self, identifier: .sequence, nodes: &nodes)
            if let first = algorithm.first {
                let oid = try ASN1ObjectIdentifier(asn1Any: first)
                isRSA = oid == [1, 2, 840, 113549, 1, 1, 1]
            }
            let octets = try ASN1OctetString(derEncoded: &nodes)
            inner = Array(octets.bytes)
            while nodes.next() != nil {}
        }
        self.isRSA = isRSA
        self.innerKey = inner
    }
}
