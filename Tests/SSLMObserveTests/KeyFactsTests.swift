import Foundation
import SSLMCore
import SSLMObserve
import SSLMPKI
import SSLMTestSupport
import Testing

/// The observer reads the public half of a key file without loading the private key; it must give the
/// same SubjectPublicKeyInfo as loading the key does, for every format sslm and ssl-mgr write or accept.
@Suite("Observer: key facts from every key format")
struct KeyFactsTests {
    /// Writes `pem` as `curr/privkey.pem` of example.com/mail and returns what the observer saw and
    /// what loading the key gives.
    func observe(_ pem: String) throws -> (seen: KeyFacts?, problem: String?, loaded: KeyFacts) {
        let f = try ObserveFixture()
        let directory = ObserveFixture.serviceDir(ObserveFixture.mail) + "/db/" + ts1
        try f.write(directory + "/privkey.pem", pem)
        try f.link(ObserveFixture.mail, "curr", ts1)
        let state = try #require(try f.observe().service(ObserveFixture.mail))
        let curr = try #require(state.dbDir(state.curr))
        let key = try KeyPair.read(path: f.path + "/" + directory + "/privkey.pem")
        let loaded = KeyFacts(spec: key.spec, spkiSHA256: ContentDigest.sha256Hex(try key.publicKey.spkiDER()))
        return (curr.key, curr.problems["privkey.pem"], loaded)
    }

    @Test(
        "PKCS#8 as sslm writes it",
        arguments: [
            KeySpec.ec(.secp256r1), .ec(.secp384r1), .ec(.secp521r1), .rsa(bits: 2048), .ed25519,
        ])
    func pkcs8(spec: KeySpec) throws {
        let result = try observe(try KeyPair.generate(spec).pkcs8PEM())
        #expect(result.problem == nil)
        #expect(result.seen == result.loaded)
        #expect(result.seen?.spec == spec)
    }

    @Test(
        "openssl formats: PKCS#8, SEC1 (EC PRIVATE KEY), PKCS#1 (RSA PRIVATE KEY), Ed25519",
        arguments: [
            ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"],
            ["ecparam", "-name", "secp384r1", "-genkey", "-noout"],
            ["genrsa", "-traditional", "2048"],
            ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
            ["genpkey", "-algorithm", "ED25519"],
        ])
    func openssl(arguments: [String]) throws {
        let openssl = try ScriptRunner.run(["/usr/bin/openssl"] + arguments)
        try #require(openssl.status == 0)
        let pem = openssl.stdout
        let result = try observe(pem)
        #expect(result.problem == nil)
        #expect(result.seen == result.loaded)
    }
}
