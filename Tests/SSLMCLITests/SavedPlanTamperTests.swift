import Foundation
import SSLMTestSupport
import Testing

/// `sslm apply FILE` executes only what config + observed state give: every edit of a saved plan (each
/// parameter of each action kind, ids, kinds, services, dependencies, reasons, options, actions added,
/// removed or reordered) is refused before any program runs or any file is written.
@Suite(
    "A tampered saved plan is refused",
    .enabled(if: TestTier.full, "runs sslm apply on the example: not in make check"))
struct SavedPlanTamperTests {
    /// The example with a recording stand-in for every command the config names: the DNS refresh, a
    /// local smtp restart, a "remote" imap server at 127.0.0.1 (copy over rsync + restart over ssh) and a
    /// post-copy command. Any start of one of them leaves a line in `commands.log`.
    static func localFixture(remoteServer: Bool) throws -> String {
        let topdir = try ExampleTopdir.make("sslm-tamper")
        let recorder = try Self.recorder(in: topdir)
        let main = topdir + "/conf.d/ssl-mgr.conf"
        var text = try String(contentsOfFile: main, encoding: .utf8)
            .replacingOccurrences(of: "restart_cmd = ''", with: "restart_cmd = '\(recorder) dns-refresh'")
            .replacingOccurrences(
                of: "[smtp]\n    servers = []",
                with: """
                    [smtp]
                        servers = ['localhost']
                        restart_cmd = '\(recorder) smtp-reload'
                        svc_depends = [['example.com', ['mail-ec', 'mail-rsa']]]
                    """)
        if remoteServer {
            text =
                text
                .replacingOccurrences(
                    of: "[imap]\n    servers = []",
                    with: """
                        [imap]
                            servers = ['127.0.0.1']
                            restart_cmd = '\(recorder) imap-reload'
                        """
                )
                .replacingOccurrences(of: "post_copy_cmd = []", with: "post_copy_cmd = [['127.0.0.1', '\(recorder)']]")
        }
        try text.write(toFile: main, atomically: true, encoding: .utf8)
        return topdir
    }

    /// An ACME CA (never contacted: planning a first certificate needs no request) with a dns-01 and an
    /// http-01 service, so the plan has every ACME kind.
    static func acmeFixture() throws -> String {
        let topdir = try localFixture(remoteServer: false)
        let conf = topdir + "/conf.d"
        var caInfo = try String(contentsOfFile: conf + "/ca-info.conf", encoding: .utf8)
        caInfo += """

            [unreached]
                ca_desc = 'an ACME CA that is never contacted'
                ca_type = 'acme'
                ca_validation = 'dns-01'
                ca_directory_url = 'https://127.0.0.1:9/dir'

            [unreached-http]
                ca_desc = 'the same with http-01'
                ca_type = 'acme'
                ca_validation = 'http-01'
                ca_directory_url = 'https://127.0.0.1:9/dir'

            """
        try caInfo.write(toFile: conf + "/ca-info.conf", atomically: true, encoding: .utf8)
        for (service, ca) in [("web-ec", "unreached"), ("mail-ec", "unreached-http")] {
            let file = conf + "/example.com/" + service
            let text = try String(contentsOfFile: file, encoding: .utf8)
            let changed = text.replacingOccurrences(
                of: #"signing_ca = '[^']*'"#, with: "signing_ca = '\(ca)'", options: .regularExpression)
            #expect(changed != text, "\(service) names a signing_ca")
            try changed.write(toFile: file, atomically: true, encoding: .utf8)
        }
        return topdir
    }

    static func recorder(in topdir: String) throws -> String {
        let recorder = topdir + "/record"
        try "#!/bin/sh\necho \"$*\" >> '\(topdir)/commands.log'\n".write(
            toFile: recorder, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: recorder)
        return recorder
    }

    static let environment = ["SSLM_NOW": "2027-01-14T12:00:00Z"]

    /// `sslm plan -o` in `topdir`; the plan as a JSON object.
    static func savedPlan(_ topdir: String) throws -> [String: JSONValue] {
        let file = topdir + "/saved.json"
        let planned = try SSLMProcess.run(["plan", "--topdir", topdir, "-o", file], environment: environment)
        #expect(planned.status == 0, "\(planned.stdout)\(planned.stderr)")
        let value = try JSONDecoder().decode(JSONValue.self, from: Data(contentsOf: URL(fileURLWithPath: file)))
        guard case .object(let object) = value else { throw CLITestFailure("the plan is not a JSON object") }
        return object
    }

    /// One edit of a saved plan, with a name for the failure message.
    struct Tamper {
        var name: String
        var edit: ([String: JSONValue]) -> [String: JSONValue]
    }

    /// A hostile value of the same JSON type as `value` (or another type when that is the point).
    static func hostile(_ value: JSONValue) -> JSONValue {
        switch value {
        case .string(let text): .string(text == "evil.example.org" ? "../../etc/shadow" : "evil.example.org")
        case .array(let list):
            list.isEmpty
                ? .array([.string("evil.example.org")])
                : .array(["example.com", "--zone-file=/etc/shadow", "$(id)", "-rf"].map(JSONValue.string))
        case .bool(let flag): .bool(!flag)
        case .int(let number): .int(number + 1)
        case .double(let number): .double(number + 1)
        case .object: .string("db/../../../etc")
        case .null: .string("evil.example.org")
        }
    }

    static func actions(_ plan: [String: JSONValue]) -> [[String: JSONValue]] {
        guard case .array(let list)? = plan["actions"] else { return [] }
        return list.compactMap { if case .object(let action) = $0 { action } else { nil } }
    }

    static func withActions(_ plan: [String: JSONValue], _ change: (inout [[String: JSONValue]]) -> Void)
        -> [String: JSONValue]
    {
        var plan = plan
        var list = actions(plan)
        change(&list)
        plan["actions"] = .array(list.map(JSONValue.object))
        return plan
    }

    static func withOption(_ plan: [String: JSONValue], _ key: String, _ value: JSONValue) -> [String: JSONValue] {
        var plan = plan
        var options = plan["options"]?.objectValue ?? [:]
        options[key] = value
        plan["options"] = .object(options)
        return plan
    }

    /// Every edit of `plan`: for the first action of each kind, each parameter (changed, removed), an
    /// added parameter, its id, kind, service, dependencies and reason code; then whole-plan edits.
    static func tampers(of plan: [String: JSONValue]) -> [Tamper] {
        var result: [Tamper] = []
        var seenKinds: Set<String> = []
        let list = actions(plan)
        for (index, action) in list.enumerated() {
            guard let kind = action["kind"]?.stringValue, seenKinds.insert(kind).inserted else { continue }
            let id = action["id"]?.stringValue ?? "?"
            func edit(_ name: String, _ change: @escaping (inout [String: JSONValue]) -> Void) {
                result.append(
                    Tamper(name: "\(id) (\(kind)): \(name)") { plan in
                        withActions(plan) { change(&$0[index]) }
                    })
            }
            func editParams(_ name: String, _ change: @escaping (inout [String: JSONValue]) -> Void) {
                edit(name) { action in
                    var params = action["params"]?.objectValue ?? [:]
                    change(&params)
                    action["params"] = .object(params)
                }
            }
            let params = action["params"]?.objectValue ?? [:]
            for (key, value) in params {
                editParams("param \(key) changed") { $0[key] = hostile(value) }
                editParams("param \(key) removed") { $0.removeValue(forKey: key) }
            }
            for key in ["host", "command", "directory", "path"] where params[key] == nil {
                editParams("param \(key) added") {
                    $0[key] =
                        key == "command"
                        ? .array(["/bin/sh", "-c", "id"].map(JSONValue.string))
                        : .string("evil.example.org")
                }
            }
            edit("id changed") { $0["id"] = .string(id + "x") }
            edit("service changed") { action in
                action["service"] = .string(
                    action["service"]?.stringValue == "example.net/web-ec" ? "example.com/web-ec" : "example.net/web-ec"
                )
            }
            edit("service set to a path") { $0["service"] = .string("../../etc") }
            edit("kind changed") {
                $0["kind"] = .string(kind == "copy_to_server" ? "restart_server" : "copy_to_server")
            }
            edit("reason code changed") { action in
                var reason = action["reason"]?.objectValue ?? [:]
                reason["code"] = .string(reason["code"]?.stringValue == "forced" ? "renewal_due" : "forced")
                action["reason"] = .object(reason)
            }
            let dependencies = action["depends_on"]?.arrayValue ?? []
            if !dependencies.isEmpty {
                edit("dependency removed") { $0["depends_on"] = .array(Array(dependencies.dropFirst())) }
            }
            if index > 0, let earlier = list[index - 1]["id"], !dependencies.contains(earlier) {
                edit("dependency added") { $0["depends_on"] = .array(dependencies + [earlier]) }
            }
        }
        let evilCopy: [String: JSONValue] = [
            "id": "server/evil.example.org/copy", "kind": "copy_to_server",
            "params": .object(["host": "evil.example.org"]),
            "reason": .object(["code": "servers_changed", "message": "copy"]), "depends_on": .array([]),
        ]
        result.append(
            Tamper(name: "all actions replaced by one copy_to_server to evil.example.org") { plan in
                withActions(plan) { $0 = [evilCopy] }
            })
        result.append(
            Tamper(name: "a copy_to_server to evil.example.org appended") { plan in
                withActions(plan) { $0.append(evilCopy) }
            })
        result.append(Tamper(name: "first action removed") { plan in withActions(plan) { $0.removeFirst() } })
        result.append(Tamper(name: "last action removed") { plan in withActions(plan) { $0.removeLast() } })
        result.append(
            Tamper(name: "middle action removed") { plan in
                withActions(plan) { $0.remove(at: $0.count / 2) }
            })
        result.append(
            Tamper(name: "an action duplicated") { plan in
                withActions(plan) { $0.insert($0[$0.count / 2], at: $0.count / 2) }
            })
        result.append(
            Tamper(name: "the last two actions swapped") { plan in
                withActions(plan) { list in if list.count >= 2 { list.swapAt(list.count - 1, list.count - 2) } }
            })
        result.append(Tamper(name: "actions reversed") { plan in withActions(plan) { $0.reverse() } })
        // An edited option is a user choice `sslm apply` also takes on its command line: it is refused
        // because the plan it gives is not the file's actions (on a fresh install `--force` gives the same
        // actions, and so is no edit of what runs; targets and phase are).
        result.append(
            Tamper(name: "options.targets narrowed") {
                withOption($0, "targets", .array([.string("example.net:web-ec")]))
            })
        result.append(Tamper(name: "options.phase set to renew") { withOption($0, "phase", .string("renew")) })
        result.append(
            Tamper(name: "options.extras gets an unknown option") {
                withOption($0, "extras", .array([.string("--zone-file=/etc/shadow")]))
            })
        return result
    }

    /// Applies each tampered plan: refused (exit 3, or 1 for a file that is not a plan any more), no
    /// command started, no certificate, production or journal written.
    func expectAllRefused(topdir: String, plan: [String: JSONValue], minimumKinds: Set<String>) throws {
        let kinds = Set(Self.actions(plan).compactMap { $0["kind"]?.stringValue })
        #expect(kinds.isSuperset(of: minimumKinds), "the plan has the kinds under test: \(kinds.sorted())")
        let tampers = Self.tampers(of: plan)
        #expect(tampers.count >= 3 * kinds.count)
        let file = topdir + "/tampered.json"
        for tamper in tampers {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let data = try encoder.encode(JSONValue.object(tamper.edit(plan)))
            try data.write(to: URL(fileURLWithPath: file))
            let run = try SSLMProcess.run(["apply", file, "--topdir", topdir], environment: Self.environment)
            #expect(
                run.status == 3 || run.status == 1, "\(tamper.name): exit \(run.status)\n\(run.stdout)\(run.stderr)")
            #expect(run.stderr.contains("tampered.json"), "\(tamper.name): the refusal names the file: \(run.stderr)")
            #expect(!run.stdout.contains("done "), "\(tamper.name): \(run.stdout)")
            for written in ["commands.log", "certs", "prod-certs", ".sslm/journal.jsonl", "www"] {
                #expect(
                    !FileManager.default.fileExists(atPath: topdir + "/" + written),
                    "\(tamper.name): \(written) was written\n\(run.stdout)\(run.stderr)")
            }
        }
    }

    @Test func everyEditOfALocalPlanIsRefused() throws {
        let topdir = try Self.localFixture(remoteServer: true)
        defer { try? FileManager.default.removeItem(atPath: topdir) }
        let plan = try Self.savedPlan(topdir)
        try expectAllRefused(
            topdir: topdir, plan: plan,
            minimumKinds: [
                "create_next", "generate_key", "create_csr", "sign_local", "write_bundle", "write_tlsa",
                "write_apex_tlsa", "publish_tlsa", "roll", "sync_production", "sync_apex_tlsa", "copy_to_server",
                "post_copy", "restart_server", "refresh_dns",
            ])
    }

    @Test func everyEditOfAnACMEPlanIsRefused() throws {
        let topdir = try Self.acmeFixture()
        defer { try? FileManager.default.removeItem(atPath: topdir) }
        let plan = try Self.savedPlan(topdir)
        try expectAllRefused(
            topdir: topdir, plan: plan,
            minimumKinds: [
                "acme_order", "publish_challenges", "refresh_dns", "await_propagation",
                "answer_challenges", "finalize_order",
            ])
    }

    /// The control: the unchanged file is applied (the recomputed plan equals it), and runs exactly the
    /// commands of the config.
    @Test func theUnchangedPlanIsApplied() throws {
        let topdir = try Self.localFixture(remoteServer: false)
        defer { try? FileManager.default.removeItem(atPath: topdir) }
        _ = try Self.savedPlan(topdir)
        let run = try SSLMProcess.run(
            ["apply", topdir + "/saved.json", "--topdir", topdir],
            environment: Self.environment)
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        let commands = (try? String(contentsOfFile: topdir + "/commands.log", encoding: .utf8)) ?? ""
        #expect(commands == "smtp-reload\ndns-refresh --serial_bump example.com\n")
        let again = try SSLMProcess.run(
            ["plan", "--detailed-exitcode", "--topdir", topdir],
            environment: Self.environment)
        #expect(again.status == 0, "\(again.stdout)\(again.stderr)")
    }

    /// Options that would change the plan cannot be given beside a saved plan.
    @Test func planningOptionsBesideAFileAreRefused() throws {
        let topdir = try Self.localFixture(remoteServer: false)
        defer { try? FileManager.default.removeItem(atPath: topdir) }
        _ = try Self.savedPlan(topdir)
        let run = try SSLMProcess.run(
            ["apply", "--force", topdir + "/saved.json", "--topdir", topdir],
            environment: Self.environment)
        #expect(run.status != 0)
        #expect(run.stderr.contains("carries its own options"), "\(run.stderr)")
        #expect(!FileManager.default.fileExists(atPath: topdir + "/certs"))
    }
}

/// A JSON document as a value, for tests that edit sslm's JSON output generically.
enum JSONValue: Codable, Equatable, ExpressibleByStringLiteral {
    case string(String)
    case int(Int)
    case double(Double)
    case bool(Bool)
    case array([JSONValue])
    case object([String: JSONValue])
    case null

    init(stringLiteral value: String) { self = .string(value) }

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int.self) {
            self = .int(value)
        } else if let value = try? container.decode(Double.self) {
            self = .double(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let value): try container.encode(value)
        case .int(let value): try container.encode(value)
        case .double(let value): try container.encode(value)
        case .bool(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        case .null: try container.encodeNil()
        }
    }

    var stringValue: String? { if case .string(let value) = self { value } else { nil } }
    var arrayValue: [JSONValue]? { if case .array(let value) = self { value } else { nil } }
    var objectValue: [String: JSONValue]? { if case .object(let value) = self { value } else { nil } }
}

/// A test precondition that did not hold.
struct CLITestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
