import SSLMPKI
import SwiftASN1
import X509

/// The public half of a private key file, read from what the file already contains — the public key
/// stored in an EC key (`[1] publicKey` of RFC 5915), the modulus and exponent of an RSA key, the
/// optional public key of a PKCS#8 v2 (Ed25519) key — without loading the private key.
///
/// Why: loading a private key makes the crypto library check it (an elliptic-curve multiplication or RSA
/// arithmetic, about a millisecond each), which dominated observing thousands of services. The result is
/// the same SubjectPublicKeyInfo, decoded and re-encoded by swift-certificates (so the point or modulus
/// is validated as a public key). Not a check that the private part is intact: signing and
/// `write_bundle` load the full key. Returns nil when the file does not embed its public key (the caller
/// then loads the key).
enum EmbeddedPublicKey {
    private static let ecPublicKey: ASN1ObjectIdentifier = [1, 2, 840, 10045, 2, 1]
    private static let rsaEncryption: ASN1ObjectIdentifier = [1, 2, 840, 113549, 1, 1, 1]
    private static let ed25519: ASN1ObjectIdentifier = [1, 3, 101, 112]

    static func publicKey(of block: PEMBlock) throws -> Certificate.PublicKey? {
        guard let spki = try spki(of: block) else { return nil }
        return try Certificate.PublicKey(derEncoded: spki)
    }

    /// The DER SubjectPublicKeyInfo of the key in `block`, composed from the file; nil when not embedded.
    static func spki(of block: PEMBlock) throws -> [UInt8]? {
        let root = try DER.parse(block.derBytes)
        let spki: [UInt8]?
        switch block.label {
        case "PRIVATE KEY": spki = try pkcs8(root)
        case "EC PRIVATE KEY": spki = try sec1(root, curve: nil)
        case "RSA PRIVATE KEY": spki = try pkcs1(root)
        default: spki = nil
        }
        return spki
    }

    private static func children(_ node: ASN1Node) throws -> [ASN1Node] {
        guard case .constructed(let nodes) = node.content else {
            throw ASN1Error.unexpectedFieldType(node.identifier)
        }
        return Array(nodes)
    }

    /// PrivateKeyInfo / OneAsymmetricKey (RFC 5958).
    private static func pkcs8(_ root: ASN1Node) throws -> [UInt8]? {
        let fields = try children(root)
        guard fields.count >= 3 else { return nil }
        let algorithm = try children(fields[1])
        guard let first = algorithm.first else { return nil }
        let oid = try ASN1ObjectIdentifier(derEncoded: first)
        let inner = try ASN1OctetString(derEncoded: fields[2])
        switch oid {
        case ecPublicKey:
            let curve = algorithm.count > 1 ? try? ASN1ObjectIdentifier(derEncoded: algorithm[1]) : nil
            return try sec1(DER.parse(Array(inner.bytes)), curve: curve)
        case rsaEncryption:
            return try pkcs1(DER.parse(Array(inner.bytes)))
        case ed25519:
            // [1] IMPLICIT publicKey BIT STRING, only in v2 files.
            guard
                let node = fields.dropFirst(3).first(where: {
                    $0.identifier == ASN1Identifier(tagWithNumber: 1, tagClass: .contextSpecific)
                })
            else { return nil }
            let bits = try ASN1BitString(
                derEncoded: node, withIdentifier: ASN1Identifier(tagWithNumber: 1, tagClass: .contextSpecific))
            return try subjectPublicKeyInfo(algorithm: ed25519, parameters: nil, key: bits)
        default:
            return nil
        }
    }

    /// ECPrivateKey (RFC 5915): `[0] parameters` (the curve) and `[1] publicKey`.
    private static func sec1(_ root: ASN1Node, curve: ASN1ObjectIdentifier?) throws -> [UInt8]? {
        var curve = curve
        var publicKey: ASN1BitString?
        for node in try children(root) where node.identifier.tagClass == .contextSpecific {
            guard let inner = try children(node).first else { continue }
            switch node.identifier.tagNumber {
            case 0: if curve == nil { curve = try ASN1ObjectIdentifier(derEncoded: inner) }
            case 1: publicKey = try ASN1BitString(derEncoded: inner)
            default: break
            }
        }
        guard let curve, let publicKey else { return nil }
        return try subjectPublicKeyInfo(algorithm: ecPublicKey, parameters: curve, key: publicKey)
    }

    /// RSAPrivateKey (RFC 8017): version, modulus, publicExponent, …
    private static func pkcs1(_ root: ASN1Node) throws -> [UInt8]? {
        let fields = try children(root)
        guard fields.count >= 3 else { return nil }
        var serializer = DER.Serializer()
        try serializer.appendConstructedNode(identifier: .sequence) { coder in
            coder.serialize(fields[1])
            coder.serialize(fields[2])
        }
        return try subjectPublicKeyInfo(
            algorithm: rsaEncryption, parameters: nil, key: ASN1BitString(bytes: serializer.serializedBytes[...]),
            nullParameters: true)
    }

    private static func subjectPublicKeyInfo(
        algorithm: ASN1ObjectIdentifier, parameters: ASN1ObjectIdentifier?, key: ASN1BitString,
        nullParameters: Bool = false
    ) throws -> [UInt8] {
        var serializer = DER.Serializer()
        try serializer.appendConstructedNode(identifier: .sequence) { coder in
            try coder.appendConstructedNode(identifier: .sequence) { coder in
                try coder.serialize(algorithm)
                if let parameters { try coder.serialize(parameters) }
                if nullParameters { try coder.serialize(ASN1Null()) }
            }
            try coder.serialize(key)
        }
        return serializer.serializedBytes
    }
}
