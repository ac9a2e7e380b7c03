import Foundation
import SSLMPlan
import SSLMTestSupport
import Testing

/// Docs/plan-schema.json is the published contract of the plan's JSON form: every golden plan (the
/// planner's in Tests/SSLMPlanTests/Golden and the example's in plans/) validates against it, checked by
/// an independent validator (Python's jsonschema, `scripts/validate-plan-schema`); the schema refuses
/// what sslm's decoder refuses; and its closed sets are sslm's.
@Suite("Docs/plan-schema.json")
struct PlanSchemaTests {
    static let root = SSLMProcess.repositoryRoot
    static let validator = root + "/scripts/validate-plan-schema"

    static var goldenPlans: [String] {
        let directories = [root + "/Tests/SSLMPlanTests/Golden", root + "/plans"]
        return directories.flatMap { directory in
            ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
                .filter { $0.hasSuffix(".json") }.sorted().map { directory + "/" + $0 }
        }
    }

    static var schema: [String: Any] {
        get throws {
            let data = try Data(contentsOf: URL(fileURLWithPath: root + "/Docs/plan-schema.json"))
            return try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
        }
    }

    @Test func everyGoldenPlanValidates() throws {
        let plans = Self.goldenPlans
        #expect(plans.count > 60, "the golden plans are found: \(plans.count)")
        let run = try ScriptRunner.run([Self.validator] + plans)
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
    }

    /// Every kind of action appears in some golden plan (so the schema's rule for it is exercised).
    @Test func theGoldenPlansCoverEveryKind() throws {
        var seen: Set<String> = []
        for path in Self.goldenPlans {
            let plan = try PlanCodec.decode(Data(contentsOf: URL(fileURLWithPath: path)), file: path)
            seen.formUnion(plan.actions.map(\.kind.rawValue))
        }
        let all = Set(ActionKind.allCases.map(\.rawValue))
        #expect(seen == all, "no golden plan has \(all.subtracting(seen).sorted())")
    }

    @Test func theSchemasClosedSetsAreSslms() throws {
        let defs = try Self.schema["$defs"] as? [String: Any]
        let action = defs?["action"] as? [String: Any]
        let kinds = ((action?["properties"] as? [String: Any])?["kind"] as? [String: Any])?["enum"] as? [String]
        #expect(Set(kinds ?? []) == Set(ActionKind.allCases.map(\.rawValue)))
        let reason = (defs?["reason"] as? [String: Any])?["properties"] as? [String: Any]
        let codes = (reason?["code"] as? [String: Any])?["enum"] as? [String]
        #expect(Set(codes ?? []) == Set(ReasonCode.allCases.map(\.rawValue)))
        let version = try (Self.schema["properties"] as? [String: Any])?["format_version"] as? [String: Any]
        let major = Plan.currentFormatVersion.split(separator: ".").first.map(String.init) ?? ""
        #expect(version?["pattern"] as? String == "^\(major)\\.[0-9]+$")
    }

    /// Edits of a valid plan that sslm's decoder refuses are refused by the schema too (and one that only
    /// the schema refuses: reason codes are a closed set in the schema, free text for the decoder, which
    /// never acts on them).
    @Test(arguments: [
        ("an unknown kind", #"s/"kind" : "create_csr"/"kind" : "make_csr"/"#),
        ("an unknown parameter", #"s/"sans" : \[/"extra" : 1, "sans" : [/"#),
        ("a mistyped parameter", #"s/"curr" : true/"curr" : "yes"/"#),
        ("a key in the older spelling", #"s/"key" : "ec secp384r1"/"key" : "secp384r1"/"#),
        (
            "a service on an apex action",
            #"s/"kind" : "write_apex_tlsa",/"kind" : "write_apex_tlsa", "service" : "a\/b",/"#
        ),
        ("an id of another kind", #"s/"id" : "example.com\/mail-ec\/next\/csr"/"id" : "example.com\/mail-ec\/roll"/"#),
        ("format 1", #"s/"format_version" : "2.0"/"format_version" : "1.0"/"#),
    ])
    func theSchemaRefuses(_ what: String, _ edit: String) throws {
        let source = Self.root + "/Tests/SSLMPlanTests/Golden/fresh-install.json"
        let original = try String(contentsOfFile: source, encoding: .utf8)
        let edited = try ScriptRunner.run(["/usr/bin/sed", "-E", edit, source])
        #expect(edited.succeeded && edited.stdout != original, "\(what): the edit applies")
        let path = FileManager.default.temporaryDirectory.appendingPathComponent(
            "sslm-schema-\(UUID().uuidString).json"
        )
        .path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try edited.stdout.write(toFile: path, atomically: true, encoding: .utf8)
        let run = try ScriptRunner.run([Self.validator, path])
        #expect(run.status == 1, "\(what): \(run.stdout)\(run.stderr)")
        #expect(throws: (any Error).self, "sslm's decoder refuses \(what) too") {
            try PlanCodec.decode(Data(edited.stdout.utf8), file: path)
        }
    }

    @Test func theSchemaRefusesAReasonCodeSslmDoesNotHave() throws {
        let source = Self.root + "/Tests/SSLMPlanTests/Golden/fresh-install.json"
        let edited = try ScriptRunner.run([
            "/usr/bin/sed", "-E", #"s/"code" : "first_certificate"/"code" : "because"/"#, source,
        ])
        let path = FileManager.default.temporaryDirectory.appendingPathComponent(
            "sslm-schema-\(UUID().uuidString).json"
        )
        .path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try edited.stdout.write(toFile: path, atomically: true, encoding: .utf8)
        let run = try ScriptRunner.run([Self.validator, path])
        #expect(run.status == 1 && run.stdout.contains("because"), "\(run.stdout)\(run.stderr)")
    }
}
