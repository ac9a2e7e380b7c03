import Crypto
import Foundation
import Logging
@testable import SSLMACME
import SSLMTestSupport
import X509

/// A logger for tests: warnings and above only.
func testLogger() -> Logger {
    var logger = Logger(label: "sslm.acme.test")
    logger.logLevel = .warning
    return logger
}

/// A certificate request made in the test, as sslm makes its own.
struct TestCSR {
    let key = P256.Signing.PrivateKey()
    let der: [UInt8]

    init(names: [String]) throws {
        let subject = try DistinguishedName { CommonName(names[0]) }
        let extensions = try Certificate.Extensions { SubjectAlternativeNames(names.map { .dnsName($0) }) }
        let attributes = try CertificateSigningRequest.Attributes([.init(ExtensionRequest(extensions: extensions))])
        let csr = try CertificateSigningRequest(
            version: .v1, subject: subject, privateKey: .init(key),
            attributes: attributes, signatureAlgorithm: .ecdsaWithSHA256)
        der = try csr.serializeAsPEM().derBytes
    }

    var publicKeyDER: [UInt8] { Array(key.publicKey.derRepresentation) }
}

/// One whole issuance through pebble: order, challenges answered by pebble's test responder, finalize,
/// download.
func issue(
    _ client: ACMEClient, testbed: PebbleTestbed, names: [String], challenge: String,
    preferredChain: String? = nil
) async throws -> (chain: ACMECertificateChain, csr: TestCSR) {
    let order = try await client.newOrder(names.map { .dns($0) }, profile: nil, replaces: nil)
    for url in order.authorizations {
        let authorization = try await client.authorization(url: url)
        if authorization.status == "valid" { continue }
        guard let offered = authorization.challenge(challenge) else {
            throw TestbedError("no \(challenge) challenge for \(authorization.identifier)")
        }
        if challenge == "http-01" {
            try testbed.addHTTP01(
                token: offered.token, content: try await client.keyAuthorization(token: offered.token))
        } else {
            try testbed.addTXT(
                host: "_acme-challenge.\(authorization.identifier.value).",
                value: try await client.dns01Value(token: offered.token))
        }
        _ = try await client.respond(to: offered)
    }
    for url in order.authorizations { _ = try await client.pollAuthorization(url: url) }
    let ready = try await client.pollOrder(url: order.url, until: ["ready"])
    let csr = try TestCSR(names: names)
    _ = try await client.finalize(ready, csrDER: csr.der)
    let valid = try await client.pollOrder(url: order.url, until: ["valid"])
    guard let certificateURL = valid.certificate else { throw TestbedError("valid order without certificate URL") }
    let chain = try await client.downloadCertificate(url: certificateURL, preferredChain: preferredChain)
    return (chain, csr)
}

/// `openssl verify -CAfile root -untrusted intermediate leaf` on a downloaded chain.
func opensslVerify(_ chain: ACMECertificateChain, testbed: PebbleTestbed, index: Int = 0) throws -> String {
    let dir = try ScratchTopdir()
    defer { dir.remove() }
    try testbed.managementPEM("/roots/\(index)").write(toFile: dir.file("root.pem"), atomically: true, encoding: .utf8)
    try testbed.managementPEM("/intermediates/\(index)").write(
        toFile: dir.file("intermediate.pem"), atomically: true,
        encoding: .utf8)
    let leaf = try chain.certificates[0].serializeAsPEM().pemString
    try leaf.write(toFile: dir.file("leaf.pem"), atomically: true, encoding: .utf8)
    return try Program.run([
        "openssl", "verify", "-CAfile", dir.file("root.pem"), "-untrusted",
        dir.file("intermediate.pem"), dir.file("leaf.pem"),
    ]).stdout
}
