import Foundation
import SSLMConfig
import SSLMCore
import Testing

/// `DBDirState` keeps its fields in shared copy-on-write storage: copies must still behave as values, and
/// equality, hashing and the Codable form must be those of the fields.
@Suite("DBDirState as a copy-on-write value")
struct DBDirStateValueTests {
    static func sample() -> DBDirState {
        let facts = CertificateFacts(
            notBefore: Date(timeIntervalSince1970: 1_700_000_000), notAfter: Date(timeIntervalSince1970: 1_710_000_000),
            serialHex: "01", issuer: "CN=ca", subject: "CN=leaf", commonName: "leaf", dnsNames: ["a.example"],
            ipAddresses: [], keySpec: nil, publicKeyLabel: "EC P-256", signatureAlgorithm: "ecdsa-with-SHA256",
            isCA: false, isSelfSigned: false, spkiSHA256: "spki", certificateSHA256: "cert")
        return DBDirState(
            name: "2026-01-01T00:00:00Z", files: ["cert.pem": "sha256:1"],
            key: KeyFacts(spec: nil, spkiSHA256: "spki"), request: nil, certificate: facts, chainFirst: nil,
            problems: [:])
    }

    @Test("mutating a copy leaves the original unchanged, field by field and in place")
    func copiesAreIndependent() {
        let original = Self.sample()
        var copy = original
        copy.files["chain.pem"] = "sha256:2"
        copy.damage = ["chain.pem": "does not issue"]
        copy.modeDrift = ["privkey.pem": "0644"]
        copy.name = "other"
        copy.key?.spkiSHA256 = "changed"
        #expect(original.files == ["cert.pem": "sha256:1"])
        #expect(original.damage == nil && original.modeDrift == nil)
        #expect(original.name == "2026-01-01T00:00:00Z")
        #expect(original.key?.spkiSHA256 == "spki")
        #expect(copy.files.count == 2 && copy.key?.spkiSHA256 == "changed" && copy.name == "other")
        #expect(copy != original)
        var unique = Self.sample()
        unique.problems["cert.pem"] = "malformed"
        #expect(unique.problems == ["cert.pem": "malformed"])
        #expect(unique != Self.sample())
    }

    @Test("equality and hashing follow the fields, not the storage")
    func equalityByValue() {
        let first = Self.sample()
        let second = Self.sample()
        #expect(first == second)
        #expect(first.hashValue == second.hashValue)
        #expect(Set([first, second]).count == 1)
        var third = second
        third.request = RequestFacts(spkiSHA256: "spki", commonName: nil, sans: [])
        #expect(third != first)
    }

    @Test("CertificateFacts: copies are independent, equal by value, and keep the synthesized JSON keys")
    func certificateFactsValue() throws {
        let original = try #require(Self.sample().certificate)
        var copy = original
        #expect(copy == original && copy.hashValue == original.hashValue)
        copy.dnsNames.append("b.example")
        copy.commonName = nil
        copy.notAfter = Date(timeIntervalSince1970: 1_720_000_000)
        #expect(original.dnsNames == ["a.example"] && original.commonName == "leaf")
        #expect(original.notAfter == Date(timeIntervalSince1970: 1_710_000_000))
        #expect(copy != original)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .secondsSince1970
        let data = try encoder.encode(copy)
        let keys = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any]).keys
        let expected: Set<String> = [
            "notBefore", "notAfter", "serialHex", "issuer", "subject", "dnsNames", "ipAddresses", "publicKeyLabel",
            "signatureAlgorithm", "isCA", "isSelfSigned", "spkiSHA256", "certificateSHA256",
        ]
        #expect(Set(keys) == expected)
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        #expect(try decoder.decode(CertificateFacts.self, from: data) == copy)
        #expect(try decoder.decode(CertificateFacts.self, from: try encoder.encode(original)) == original)
    }

    @Test("the JSON form has the synthesized keys, nil optionals omitted, and round-trips")
    func codableForm() throws {
        var value = Self.sample()
        value.damage = ["fullchain.pem": "missing"]
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .secondsSince1970
        let data = try encoder.encode(value)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(Set(object.keys) == ["name", "files", "key", "certificate", "problems", "damage"])
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        #expect(try decoder.decode(DBDirState.self, from: data) == value)
        let plain = try encoder.encode(Self.sample())
        let keys = try #require(try JSONSerialization.jsonObject(with: plain) as? [String: Any]).keys
        #expect(Set(keys) == ["name", "files", "key", "certificate", "problems"])
    }
}

/// `ServiceConfig` keeps its fields in shared copy-on-write storage too.
@Suite("ServiceConfig as a copy-on-write value")
struct ServiceConfigValueTests {
    @Test("mutating a copy leaves the original and the config's own copy unchanged")
    func copiesAreIndependent() throws {
        let config = try ExampleConfig.load()
        let address = try #require(config.services.keys.sorted().first)
        let original = try #require(config.service(address))
        var copy = original
        #expect(copy == original && copy.hashValue == original.hashValue)
        copy.sans.append("added.example")
        copy.subject.commonName = "changed"
        copy.name = "renamed"
        copy.daneTTL = 7
        #expect(original.sans == config.service(address)?.sans)
        #expect(!original.sans.contains("added.example"))
        #expect(original.subject.commonName != "changed" && original.name != "renamed")
        #expect(config.service(address) == original)
        #expect(copy != original)
        var rebuilt = ServiceConfig(
            address: original.address, file: original.file, name: original.name, signer: original.signer,
            dane: original.dane, daneTTL: original.daneTTL, key: original.key, subject: original.subject,
            sans: original.sans, signing: original.signing, renewInfo: original.renewInfo)
        rebuilt.checkEndpoints = original.checkEndpoints
        #expect(rebuilt == original && rebuilt.hashValue == original.hashValue)
        #expect(Set([rebuilt, original]).count == 1)
    }
}
