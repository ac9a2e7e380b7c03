import Crypto
import Foundation

/// Flattened JWS JSON serialisation (RFC 7515 §7.2.2) of ACME requests (RFC 8555 §6.2).
enum JWS {
    /// How the signer identifies itself: the full JWK (newAccount, revoke by certificate key) or the account URL.
    enum Signer {
        case jwk
        case kid(String)
    }

    /// The JSON body of a signed request. `payload` nil means POST-as-GET (empty payload).
    static func sign(payload: [UInt8]?, url: String, nonce: String, key: ACMEAccountKey, signer: Signer) throws
        -> [UInt8]
    {
        var header = "{\"alg\":\(JSONText.quote(key.algorithm)),"
        switch signer {
        case .jwk: header += "\"jwk\":\(key.jwk.canonicalJSON),"
        case .kid(let kid): header += "\"kid\":\(JSONText.quote(kid)),"
        }
        header += "\"nonce\":\(JSONText.quote(nonce)),\"url\":\(JSONText.quote(url))}"
        let protected = Base64URL.encode(header)
        let payloadText = payload.map { Base64URL.encode($0) } ?? ""
        let signature = try key.sign(Array("\(protected).\(payloadText)".utf8))
        return body(protected: protected, payload: payloadText, signature: Base64URL.encode(signature))
    }

    /// The External Account Binding JWS (RFC 8555 §7.3.4): HS256 over the account's JWK.
    static func externalAccountBinding(_ eab: ACMEExternalAccountBinding, accountKey: ACMEAccountKey, url: String)
        throws -> String
    {
        guard let macKey = Base64URL.decode(eab.hmacKey), !macKey.isEmpty else {
            throw ACMEError(.invalidInput,
                            "the EAB HMAC key for kid \"\(eab.keyID)\" is not base64url: copy it exactly as the CA gave it")
        }
        let header = "{\"alg\":\"HS256\",\"kid\":\(JSONText.quote(eab.keyID)),\"url\":\(JSONText.quote(url))}"
        let protected = Base64URL.encode(header)
        let payload = Base64URL.encode(accountKey.jwk.canonicalJSON)
        let mac = HMAC<SHA256>.authenticationCode(for: Array("\(protected).\(payload)".utf8),
                                                  using: SymmetricKey(data: macKey))
        return String(decoding: body(protected: protected, payload: payload, signature: Base64URL.encode(mac)),
                      as: UTF8.self)
    }

    private static func body(protected: String, payload: String, signature: String) -> [UInt8] {
        Array("{\"protected\":\"\(protected)\",\"payload\":\"\(payload)\",\"signature\":\"\(signature)\"}".utf8)
    }
}

/// An External Account Binding credential (RFC 8555 §7.3.4): the key identifier and the base64url
/// HMAC key the CA issued. Its description never shows the HMAC key.
public struct ACMEExternalAccountBinding: Sendable, CustomStringConvertible {
    public var keyID: String
    /// base64url-encoded HMAC-SHA256 key, as CAs hand it out.
    public var hmacKey: String

    public init(keyID: String, hmacKey: String) {
        self.keyID = keyID
        self.hmacKey = hmacKey
    }

    public var description: String { "ACMEExternalAccountBinding(kid \(keyID))" }
}
