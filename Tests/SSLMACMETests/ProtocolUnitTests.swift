import Crypto
import Foundation
import SSLMTestSupport
import Testing
@testable import SSLMACME
import X509

/// Pure checks of the protocol pieces: JWK thumbprints, JWS signatures, token validation, ARI ids.
struct ProtocolUnitTests {
    /// Boulder's refusals of an order's `replaces`, which sslm retries without it; other errors are not.
    @Test(arguments: [
        (
            "alreadyReplaced", "cannot indicate an order replaces certificate with serial 01, which already has one",
            true
        ),
        ("malformed", "requester account did not request the certificate being replaced by this order", true),
        ("malformed", "identifier list is empty", false),
        ("rateLimited", "too many certificates already issued", false),
    ])
    func refusalsOfReplaces(name: String, detail: String, refuses: Bool) {
        let error = ACMEError(
            problem: ACMEProblem(type: "urn:ietf:params:acme:error:" + name, detail: detail, status: 400),
            url: "https://ca.example/new-order", status: 400)
        #expect(ACMEClient.refusesReplaces(error) == refuses)
    }

    @Test func thumbprintOfTheRFC7638ExampleKey() {
        let n =
            "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZC"
            + "iFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnY"
            + "b9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0L"
            + "s1jF44-csFCur-kEgU8awapJzKnqDKgw"
        let jwk = JWK(members: [("e", "AQAB"), ("kty", "RSA"), ("n", n)])
        #expect(jwk.thumbprint == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs")
    }

    @Test func es256JWSVerifiesWithTheKeyInItsHeader() throws {
        let key = ACMEAccountKey.generate()
        let body = try JWS.sign(
            payload: Array("{\"a\":1}".utf8), url: "https://ca.example/new-account",
            nonce: "abc_-1", key: key, signer: .jwk)
        let object = try jsonStrings(body)
        let protected = try #require(object["protected"])
        let payload = try #require(object["payload"])
        let signature = try decoded(object["signature"])
        #expect(signature.count == 64)
        let header = try jsonObject(try decoded(protected))
        #expect(header["alg"] as? String == "ES256")
        #expect(header["nonce"] as? String == "abc_-1")
        #expect(header["url"] as? String == "https://ca.example/new-account")
        #expect(header["kid"] == nil)
        let jwk = try #require(header["jwk"] as? [String: String])
        let x = try decoded(jwk["x"])
        let y = try decoded(jwk["y"])
        let publicKey = try P256.Signing.PublicKey(x963Representation: [0x04] + x + y)
        let ecdsa = try P256.Signing.ECDSASignature(rawRepresentation: signature)
        #expect(publicKey.isValidSignature(ecdsa, for: Array("\(protected).\(payload)".utf8)))
        #expect(!publicKey.isValidSignature(ecdsa, for: Array("\(protected).x".utf8)))
        #expect(String(decoding: try decoded(payload), as: UTF8.self) == "{\"a\":1}")
    }

    @Test func postAsGetHasAnEmptyPayloadAndAKid() throws {
        let body = try JWS.sign(
            payload: nil, url: "https://ca.example/order/1", nonce: "n",
            key: .generate(), signer: .kid("https://ca.example/acct/7"))
        let object = try jsonStrings(body)
        #expect(object["payload"] == "")
        let header = try jsonObject(try decoded(object["protected"]))
        #expect(header["kid"] as? String == "https://ca.example/acct/7")
        #expect(header["jwk"] == nil)
    }

    @Test func accountKeyPEMRoundTripKeepsTheThumbprint() throws {
        let key = ACMEAccountKey.generate()
        let loaded = try ACMEAccountKey(pem: key.pkcs8PEM)
        #expect(loaded.thumbprint == key.thumbprint)
        #expect(loaded.algorithm == "ES256")
        #expect(!key.description.contains("PRIVATE"))
        #expect(throws: ACMEError(.invalidInput, "")) { try ACMEAccountKey(pem: "not a key") }
    }

    @Test func rsaAccountKeyFromOpenSSLSignsRS256() throws {
        let dir = try ScratchTopdir()
        defer { dir.remove() }
        try Program.check(["openssl", "genrsa", "-traditional", "-out", dir.file("rsa.pem"), "2048"])
        let key = try ACMEAccountKey(pem: try String(contentsOfFile: dir.file("rsa.pem"), encoding: .utf8))
        #expect(key.algorithm == "RS256")
        let body = try JWS.sign(payload: nil, url: "https://ca.example/x", nonce: "n", key: key, signer: .jwk)
        #expect(try decoded(try jsonStrings(body)["signature"]).count == 256)
    }

    @Test(arguments: [
        ("../x", false), ("a/b", false), ("", false), (String(repeating: "a", count: 300), false), ("a b", false),
        ("tok.en", false), ("evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA", true), ("A_-9", true),
        (String(repeating: "a", count: 256), true),
    ])
    func challengeTokens(token: String, accepted: Bool) {
        #expect((ACMEChallenge.tokenProblem(token) == nil) == accepted)
    }

    @Test func authorizationWithAnUnsafeTokenIsRefusedWhenDecoded() throws {
        let json = """
            {"identifier":{"type":"dns","value":"a.example.com"},"status":"pending",
             "challenges":[{"type":"http-01","url":"https://ca.example/c/1","status":"pending","token":"a/b"}]}
            """
        #expect(throws: ACMEError(.invalidInput, "")) {
            try ACMEAuthorization.decodeServer(Array(json.utf8), url: "https://ca.example/authz/1")
        }
        let badURL = json.replacingOccurrences(of: "https://ca.example/c/1", with: "file:///etc/passwd")
            .replacingOccurrences(of: "a/b", with: "ok")
        #expect(throws: ACMEError(.badResponse, "")) {
            try ACMEAuthorization.decodeServer(Array(badURL.utf8), url: "https://ca.example/authz/1")
        }
    }

    @Test func keyAuthorizationNeedsAnAccountAndASafeToken() async throws {
        let client = try ACMEClient(directoryURL: "https://127.0.0.1:1/dir", trustFile: nil, logger: testLogger())
        await #expect(throws: ACMEError(.invalidInput, "")) { try await client.keyAuthorization(token: "abc") }
        await client.shutdown()
    }

    @Test func ariCertIDOfTheRFC9773Example() throws {
        let certificate = try ariExampleCertificate()
        #expect(try ACMEClient.ariCertID(certificate) == "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE")
    }

    @Test func problemDocumentsBecomeErrorsQuotingTypeAndDetail() throws {
        let problem = ACMEProblem(
            type: "urn:ietf:params:acme:error:rejectedIdentifier", detail: "no .invalid",
            status: 400,
            subproblems: [
                ACMEProblem(
                    type: "urn:ietf:params:acme:error:malformed", detail: "bad name",
                    identifier: .dns("x.invalid"))
            ])
        let error = ACMEError(problem: problem, method: "POST", url: "https://ca.example/new-order", status: 400)
        #expect(error.code == .problem)
        #expect(error.acmeErrorName == "rejectedIdentifier")
        #expect(error.description.hasPrefix("urn:ietf:params:acme:error:rejectedIdentifier: no .invalid"))
        #expect(error.description.contains("dns x.invalid"))
        #expect(error.description.hasSuffix("(POST https://ca.example/new-order)"))
    }

    @Test func accountStoreCreatesOnceAndRecords() throws {
        let dir = try ScratchTopdir()
        defer { dir.remove() }
        let store = ACMEAccountStore(root: dir.file("accounts"))
        let (key, url) = try store.key(directoryURL: "https://ca.example/dir", email: "a@example.com")
        #expect(url == nil)
        try store.record(
            directoryURL: "https://ca.example/dir", email: "a@example.com",
            accountURL: "https://ca.example/acct/1")
        let (again, recorded) = try store.key(directoryURL: "https://ca.example/dir", email: "a@example.com")
        #expect(again.thumbprint == key.thumbprint)
        #expect(recorded == "https://ca.example/acct/1")
        let (other, _) = try store.key(directoryURL: "https://ca.example/dir", email: "b@example.com")
        #expect(other.thumbprint != key.thumbprint)
        let accountDir = store.accountDirectory(directoryURL: "https://ca.example/dir", email: "a@example.com")
        let keyMode = try FileManager.default.attributesOfItem(atPath: accountDir + "/key.pem")[.posixPermissions]
        let dirMode = try FileManager.default.attributesOfItem(atPath: accountDir)[.posixPermissions]
        #expect((keyMode as? NSNumber)?.intValue == 0o600)
        #expect((dirMode as? NSNumber)?.intValue == 0o700)
    }
}

/// A certificate with the RFC 9773 §4.1 example's AKI keyIdentifier and serial number.
func ariExampleCertificate() throws -> Certificate {
    let key = P256.Signing.PrivateKey()
    let name = try DistinguishedName { CommonName("ari.example.com") }
    let aki: [UInt8] = [
        0x69, 0x88, 0x5B, 0x6B, 0x87, 0x46, 0x40, 0x41, 0xE1, 0xB3, 0x7B, 0x84, 0x7B, 0xA0, 0xAE, 0x2C,
        0xDE, 0x01, 0xC8, 0xD4,
    ]
    let now = Date(timeIntervalSince1970: 1_800_000_000)
    return try Certificate(
        version: .v3, serialNumber: Certificate.SerialNumber(bytes: [0x00, 0x87, 0x65, 0x43, 0x21]),
        publicKey: .init(key.publicKey), notValidBefore: now, notValidAfter: now + 86400, issuer: name,
        subject: name, signatureAlgorithm: .ecdsaWithSHA256,
        extensions: try Certificate.Extensions { AuthorityKeyIdentifier(keyIdentifier: aki[...]) },
        issuerPrivateKey: .init(key))
}

private func jsonObject(_ bytes: [UInt8]) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
}

private func jsonStrings(_ bytes: [UInt8]) throws -> [String: String] {
    try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: String])
}

private func decoded(_ text: String?) throws -> [UInt8] {
    let text = try #require(text)
    return try #require(Base64URL.decode(text))
}
