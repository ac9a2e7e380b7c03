import Foundation
import SSLMConfig
import SSLMCore
import SSLMDNS
import SSLMTestSupport
import Testing

extension TestbedSuites {
    /// The example exec providers of examples/dns-providers, fed contract documents on stdin through
    /// `ScriptRunner`: `pdns-api` against PowerDNS's HTTP API (scripts/testbed/pdns-testbed), `nsupdate` against
    /// Knot DNS (scripts/testbed/knot-testbed). Answers are read with the pinned `DNSQuery`.
    @Suite(
        "exec DNS providers: pdns-api against PowerDNS, nsupdate against Knot DNS", .serialized,
        .enabled(if: TestTier.full, "starts pdns / knot: not in make check"))
    struct DNSProviderScriptTests {
        static let directory = DNSTestbed.repositoryRoot.appendingPathComponent("examples/dns-providers")
        static let pdnsAPI = directory.appendingPathComponent("pdns-api").path
        static let nsupdate = directory.appendingPathComponent("nsupdate").path
        static let challenge = "_acme-challenge.example.com."
        static let tlsaOwner = "_25._tcp.mail.example.com."
        /// Provider settings from the environment of `swift test` must not leak into a run.
        static let unset = [
            "PDNS_API_URL", "PDNS_API_KEY", "PDNS_SERVER_ID", "PDNS_TIMEOUT", "NSUPDATE_SERVER", "NSUPDATE_PORT",
            "NSUPDATE_KEY_FILE", "NSUPDATE_KEY", "NSUPDATE_TIMEOUT", "NSUPDATE", "NSUPDATE_OPTIONS",
        ]
        let query = DNSQuery(timeoutSeconds: 1, retries: 1)

        struct Record: Encodable {
            var owner: String
            var type: String
            var ttl = 300
            var value: String

            static func txt(_ value: String, at owner: String = challenge) -> Record {
                Record(owner: owner, type: "TXT", value: value)
            }
            static func tlsa(_ value: String, at owner: String = tlsaOwner) -> Record {
                Record(owner: owner, type: "TLSA", value: value)
            }
        }

        struct Document: Encodable {
            var version = 1
            var zone = "example.com."
            var operation: String
            var records: [Record]
        }

        /// Runs `script` with `document` on stdin and `environment` on top of this process's.
        func run(
            _ script: String, _ document: Document, environment: [String: String], arguments: [String] = []
        ) throws -> ScriptRunner.Outcome {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            return try ScriptRunner.run(
                [script] + arguments, environment: environment, unsetting: Self.unset,
                stdin: try encoder.encode(document))
        }

        /// Runs and expects exit 0.
        func apply(_ script: String, _ document: Document, environment: [String: String]) throws {
            let outcome = try run(script, document, environment: environment)
            #expect(outcome.succeeded, "\(document.operation) exited \(outcome.status): \(outcome.stderr)")
        }

        func txt(_ name: String, at server: NameserverAddress) throws -> [String] {
            try query.txt(name, at: server).get().sorted()
        }

        func tlsa(_ name: String, at server: NameserverAddress) throws -> [String] {
            try query.tlsa(name, at: server).get().map(\.description).sorted()
        }

        static let hexA = String(repeating: "a1", count: 32)
        static let hexB = String(repeating: "b2", count: 32)
        /// Quotes, a backslash, spaces and more than 255 bytes: escaped and split into character strings.
        static let awkward = #"quoted "two" \ and "# + String(repeating: "x", count: 300)

        @Test("pdns-api: present two TXT values, again (no change), cleanup one, then the other")
        func pdnsTXT() throws {
            let bed = try PDNSTestbed()
            let dns = try bed.dns
            let env = try bed.providerEnvironment
            let unmanaged = try bed.unmanagedTXT
            let present = Document(operation: "present", records: [.txt("challenge-one"), .txt(Self.awkward)])
            try apply(Self.pdnsAPI, present, environment: env)
            #expect(try txt(Self.challenge, at: dns) == ["challenge-one", Self.awkward, unmanaged].sorted())
            let serial = try query.soaSerial("example.com", at: dns).get()

            try apply(Self.pdnsAPI, present, environment: env)
            #expect(try txt(Self.challenge, at: dns) == ["challenge-one", Self.awkward, unmanaged].sorted())
            #expect(try query.soaSerial("example.com", at: dns).get() == serial, "a re-run changed the zone")

            try apply(Self.pdnsAPI, Document(operation: "cleanup", records: [.txt(Self.awkward)]), environment: env)
            #expect(try txt(Self.challenge, at: dns) == ["challenge-one", unmanaged].sorted())
            #expect(try query.soaSerial("example.com", at: dns).get() > serial)
            try apply(Self.pdnsAPI, Document(operation: "cleanup", records: [.txt(Self.awkward)]), environment: env)
            try apply(Self.pdnsAPI, Document(operation: "cleanup", records: [.txt("challenge-one")]), environment: env)
            #expect(try txt(Self.challenge, at: dns) == [unmanaged])
            #expect(try txt("_acme-challenge.www.example.com", at: dns) == [unmanaged])
        }

        @Test("pdns-api: an owner with no records gets an RRset, removed whole by its cleanup; a config file")
        func pdnsNewOwnerAndConfigFile() throws {
            let bed = try PDNSTestbed()
            let dns = try bed.dns
            let owner = "_acme-challenge.new.example.net."
            let records: [Record] = [.txt("net-one", at: owner), .txt("net-two", at: owner)]
            let conf = bed.directory + "/pdns-api.conf"
            try "# pdns-api settings\nPDNS_API_URL=\(try bed.apiURL)/api/v1\nPDNS_API_KEY='\(try bed.apiKey)'\n"
                .write(toFile: conf, atomically: true, encoding: .utf8)
            let add = try run(
                Self.pdnsAPI, Document(zone: "example.net.", operation: "present", records: records), environment: [:],
                arguments: [conf])
            #expect(add.succeeded, "\(add.stderr)")
            #expect(try txt(owner, at: dns) == ["net-one", "net-two"])
            let remove = try run(
                Self.pdnsAPI, Document(zone: "example.net.", operation: "cleanup", records: records), environment: [:],
                arguments: [conf])
            #expect(remove.succeeded, "\(remove.stderr)")
            #expect(try txt(owner, at: dns).isEmpty)
            #expect(try txt("_acme-challenge.example.net", at: dns) == [try bed.unmanagedTXT])
        }

        @Test("pdns-api: tlsa-publish two records, again, tlsa-withdraw one; the unmanaged TLSA survives")
        func pdnsTLSA() throws {
            let bed = try PDNSTestbed()
            let dns = try bed.dns
            let env = try bed.providerEnvironment
            let unmanaged = try bed.unmanagedTLSA
            let next = "3 1 1 \(Self.hexA)"
            let current = "3 1 1 \(Self.hexB.uppercased())"
            let publish = Document(operation: "tlsa-publish", records: [.tlsa(next), .tlsa(current)])
            try apply(Self.pdnsAPI, publish, environment: env)
            try apply(Self.pdnsAPI, publish, environment: env)
            #expect(try tlsa(Self.tlsaOwner, at: dns) == [next, "3 1 1 \(Self.hexB)", unmanaged].sorted())
            try apply(Self.pdnsAPI, Document(operation: "tlsa-withdraw", records: [.tlsa(current)]), environment: env)
            #expect(try tlsa(Self.tlsaOwner, at: dns) == [next, unmanaged].sorted())
            try apply(Self.pdnsAPI, Document(operation: "tlsa-withdraw", records: [.tlsa(next)]), environment: env)
            #expect(try tlsa(Self.tlsaOwner, at: dns) == [unmanaged])
        }

        @Test("pdns-api: version 2, a record outside the zone, an unknown type exit 2; API errors exit 1")
        func pdnsRefusals() throws {
            let bed = try PDNSTestbed()
            let dns = try bed.dns
            let env = try bed.providerEnvironment
            let unmanaged = try bed.unmanagedTXT
            func expectFailure(
                _ document: Document, environment: [String: String], status: Int32, _ words: [String]
            ) throws {
                let outcome = try run(Self.pdnsAPI, document, environment: environment)
                #expect(outcome.status == status, "exit \(outcome.status), stderr: \(outcome.stderr)")
                for word in words {
                    #expect(outcome.stderr.contains(word), "\(word) not in: \(outcome.stderr)")
                }
                #expect(!outcome.stderr.contains(try bed.apiKey), "the API key is printed: \(outcome.stderr)")
            }

            var version2 = Document(operation: "present", records: [.txt("v2")])
            version2.version = 2
            try expectFailure(version2, environment: env, status: 2, ["unsupported contract version 2", "version 1"])
            try expectFailure(
                Document(operation: "present", records: [.txt("x"), .txt("out", at: "_acme-challenge.example.net.")]),
                environment: env, status: 2, ["_acme-challenge.example.net.", "outside the zone example.com."])
            try expectFailure(
                Document(operation: "present", records: [Record(owner: Self.challenge, type: "CNAME", value: "x.")]),
                environment: env, status: 2, ["unknown record type \"CNAME\""])
            try expectFailure(
                Document(operation: "publish", records: [.txt("x")]), environment: env, status: 2,
                ["unknown operation \"publish\""])

            var badKey = env
            badKey["PDNS_API_KEY"] = "not-the-key"
            try expectFailure(
                Document(operation: "present", records: [.txt("x")]), environment: badKey, status: 1,
                ["zone example.com.", "HTTP 401", "Unauthorized", "PDNS_API_KEY"])
            try expectFailure(
                Document(zone: "example.org.", operation: "present", records: [.txt("x", at: "a.example.org.")]),
                environment: env, status: 1, ["zone example.org.", "HTTP 404", "Not Found"])
            try bed.stopServer()
            try expectFailure(
                Document(operation: "present", records: [.txt("x")]), environment: env, status: 1,
                ["cannot reach the PowerDNS API", "Connection refused"])
            try bed.startServer()
            #expect(try txt(Self.challenge, at: dns) == [unmanaged], "a refused document changed the zone")
        }

        @Test("nsupdate: present two TXT values, again, cleanup one; TLSA publish and withdraw; errors")
        func nsupdateKnot() throws {
            let bed = try UpdateTestbed(.knot)
            let primary = try bed.primary
            let env = [
                "NSUPDATE_SERVER": primary.host, "NSUPDATE_PORT": "\(primary.port)",
                "NSUPDATE_KEY_FILE": try bed.value("KEY_FILE"), "NSUPDATE_TIMEOUT": "3",
            ]
            let unmanaged = try bed.unmanagedTXT
            let present = Document(operation: "present", records: [.txt("challenge-one"), .txt(Self.awkward)])
            try apply(Self.nsupdate, present, environment: env)
            try apply(Self.nsupdate, present, environment: env)
            #expect(try txt(Self.challenge, at: primary) == ["challenge-one", Self.awkward, unmanaged].sorted())
            try apply(Self.nsupdate, Document(operation: "cleanup", records: [.txt(Self.awkward)]), environment: env)
            #expect(try txt(Self.challenge, at: primary) == ["challenge-one", unmanaged].sorted())

            let next = "3 1 1 \(Self.hexA)"
            try apply(Self.nsupdate, Document(operation: "tlsa-publish", records: [.tlsa(next)]), environment: env)
            #expect(try tlsa(Self.tlsaOwner, at: primary) == [next, try bed.unmanagedTLSA].sorted())
            try apply(Self.nsupdate, Document(operation: "tlsa-withdraw", records: [.tlsa(next)]), environment: env)
            #expect(try tlsa(Self.tlsaOwner, at: primary) == [try bed.unmanagedTLSA])

            var version2 = Document(operation: "cleanup", records: [.txt("challenge-one")])
            version2.version = 2
            let refused = try run(Self.nsupdate, version2, environment: env)
            #expect(
                refused.status == 2 && refused.stderr.contains("unsupported contract version 2"), "\(refused.stderr)")
            var wrongKey = env
            wrongKey.removeValue(forKey: "NSUPDATE_KEY_FILE")
            wrongKey["NSUPDATE_KEY"] =
                "hmac-sha256:\(try bed.value("KEY_NAME")):\(Data(count: 32).base64EncodedString())"
            let denied = try run(
                Self.nsupdate, Document(operation: "cleanup", records: [.txt("challenge-one")]), environment: wrongKey)
            #expect(denied.status == 1 && denied.stderr.contains("NOTAUTH"), "exit \(denied.status): \(denied.stderr)")
            #expect(try txt(Self.challenge, at: primary) == ["challenge-one", unmanaged].sorted())
        }
    }
}
