import Crypto
import Foundation
import _CryptoExtras

/// The private key of an ACME account: ES256 (P-256) by default, RS256 when an RSA PEM is loaded.
///
/// Signs JWS messages and gives the account's JWK and RFC 7638 thumbprint. Its description never
/// shows key material.
public struct ACMEAccountKey: Sendable, CustomStringConvertible {
    enum Backing: Sendable {
        case p256(P256.Signing.PrivateKey)
        case rsa(_RSA.Signing.PrivateKey)
    }

    let backing: Backing

    init(backing: Backing) { self.backing = backing }

    /// A fresh P-256 key.
    public static func generate() -> ACMEAccountKey { ACMEAccountKey(backing: .p256(P256.Signing.PrivateKey())) }

    /// Loads a PEM private key: PKCS#8 or SEC1 EC (P-256), PKCS#1 or PKCS#8 RSA (2048 bits or more).
    public init(pem: String) throws {
        if let key = try? P256.Signing.PrivateKey(pemRepresentation: pem) {
            backing = .p256(key)
        } else if let key = try? _RSA.Signing.PrivateKey(pemRepresentation: pem) {
            backing = .rsa(key)
        } else {
            throw ACMEError(.invalidInput,
                            "the account key is neither a P-256 EC key nor an RSA key of 2048 bits or more in PEM "
                            + "(PKCS#8, SEC1 or PKCS#1): replace it or remove it to create a new account")
        }
    }

    /// The key as a PKCS#8 PEM document.
    public var pkcs8PEM: String {
        switch backing {
        case .p256(let key): return key.pemRepresentation
        case .rsa(let key): return key.pkcs8PEMRepresentation
        }
    }

    /// The JWS algorithm: `ES256` or `RS256`.
    public var algorithm: String {
        switch backing {
        case .p256: return "ES256"
        case .rsa: return "RS256"
        }
    }

    /// The public JWK (RFC 7517), members in lexicographic order.
    var jwk: JWK {
        switch backing {
        case .p256(let key):
            let point = Array(key.publicKey.x963Representation)  // 0x04 || x || y
            return JWK(members: [("crv", "P-256"), ("kty", "EC"),
                                 ("x", Base64URL.encode(point[1..<33])), ("y", Base64URL.encode(point[33..<65]))])
        case .rsa(let key):
            let primitives = try? key.publicKey.getKeyPrimitives()
            return JWK(members: [("e", Base64URL.encode(primitives?.publicExponent ?? Data())), ("kty", "RSA"),
                                 ("n", Base64URL.encode(primitives?.modulus ?? Data()))])
        }
    }

    /// The RFC 7638 JWK thumbprint: base64url SHA-256 of the canonical JWK.
    public var thumbprint: String { jwk.thumbprint }

    /// The JWS signature over `signingInput` (ES256: raw r||s, 64 bytes; RS256: PKCS#1 v1.5).
    func sign(_ signingInput: [UInt8]) throws -> [UInt8] {
        switch backing {
        case .p256(let key):
            return Array(try key.signature(for: signingInput).rawRepresentation)
        case .rsa(let key):
            return Array(try key.signature(for: SHA256.hash(data: signingInput), padding: .insecurePKCS1v1_5)
                .rawRepresentation)
        }
    }

    public var description: String { "ACMEAccountKey(\(algorithm), thumbprint \(thumbprint))" }
}

/// A public JWK with its required members in lexicographic order, so that its JSON is the RFC 7638
/// canonical form.
struct JWK: Sendable {
    var members: [(String, String)]

    /// `{"crv":"P-256","kty":"EC","x":"…","y":"…"}` without white space.
    var canonicalJSON: String {
        "{" + members.map { "\(JSONText.quote($0.0)):\(JSONText.quote($0.1))" }.joined(separator: ",") + "}"
    }

    var thumbprint: String { Base64URL.encode(SHA256.hash(data: Array(canonicalJSON.utf8))) }
}

/// Minimal JSON text helpers for the parts of a JWS whose exact bytes matter.
enum JSONText {
    static func quote(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    out += String(format: "\\u%04x", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
