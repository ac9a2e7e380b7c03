import Foundation
import SSLMTestSupport
import Testing

/// Docs/architecture.md, "Modules and the one direction of dependencies". The build makes every target
/// import only what `Package.swift` declares for it (`--explicit-target-dependency-import-check error` in
/// `make check` and `make test`), so the rule is checked here on the declared lists: each target depends
/// only on the targets its layer allows.
@Suite("Module dependency direction")
struct DependencyDirectionTests {
    /// The sslm targets each library target may depend on (products of other packages given as
    /// `.product(…)` are not listed; TOMLKit is named by its product name alone).
    static let allowed: [String: Set<String>] = [
        "SSLMCore": [],
        "SSLMConfig": ["SSLMCore", "TOMLKit"],
        "SSLMPKI": ["SSLMCore", "COpenSSL"],
        "SSLMPlan": ["SSLMCore", "SSLMConfig"],
        "SSLMObserve": ["SSLMCore", "SSLMConfig", "SSLMPKI"],
        "SSLMACME": ["SSLMCore"],
        "SSLMDNS": ["SSLMCore", "SSLMConfig", "CLDNS"],
        "SSLMDeploy": ["SSLMCore"],
        "SSLMApply": [
            "SSLMCore", "SSLMConfig", "SSLMObserve", "SSLMPlan", "SSLMPKI", "SSLMACME", "SSLMDNS", "SSLMDeploy",
        ],
        "SSLMCLI": ["SSLMCore", "SSLMConfig", "SSLMObserve", "SSLMPlan", "SSLMApply", "SSLMPKI", "SSLMDNS"],
        "sslm": ["SSLMCLI"],
        "SSLMTestSupport": ["SSLMCore"],
    ]

    /// Target name → the sslm targets (quoted names, not `.product(…)`) in its `dependencies:` list.
    static func declared() throws -> [String: Set<String>] {
        let text = try String(contentsOfFile: SSLMProcess.repositoryRoot + "/Package.swift", encoding: .utf8)
        var result: [String: Set<String>] = [:]
        let starts = [".target(", ".executableTarget(", ".testTarget(", ".systemLibrary("]
        var pieces = [Substring(text)]
        for start in starts { pieces = pieces.flatMap { $0.components(separatedBy: start).map { Substring($0) } } }
        for piece in pieces.dropFirst() {
            guard let name = Self.firstQuoted(after: "name:", in: piece) else { continue }
            var names: Set<String> = []
            if let open = piece.range(of: "dependencies: [") {
                var depth = 1
                var index = open.upperBound
                var list = ""
                while index < piece.endIndex, depth > 0 {
                    let character = piece[index]
                    if character == "[" { depth += 1 } else if character == "]" { depth -= 1 }
                    if depth > 0 { list.append(character) }
                    index = piece.index(after: index)
                }
                // Drop `.product(name: "X", package: "y")` entries, keep the quoted target names.
                let withoutProducts = list.replacingOccurrences(
                    of: #"\.product\([^)]*\)"#, with: "", options: .regularExpression)
                for part in withoutProducts.split(separator: "\"", omittingEmptySubsequences: false).enumerated()
                where part.offset % 2 == 1 {
                    names.insert(String(part.element))
                }
            }
            result[name] = names
        }
        return result
    }

    static func firstQuoted(after key: String, in text: Substring) -> String? {
        guard let range = text.range(of: key) else { return nil }
        let rest = text[range.upperBound...]
        guard let open = rest.firstIndex(of: "\"") else { return nil }
        let afterOpen = rest.index(after: open)
        guard let close = rest[afterOpen...].firstIndex(of: "\"") else { return nil }
        return String(rest[afterOpen..<close])
    }

    @Test("every library target is declared, and depends only on what its layer allows")
    func declaredDependenciesFollowTheRule() throws {
        let declared = try Self.declared()
        for (target, allowed) in Self.allowed {
            let found = try #require(declared[target], "Package.swift declares \(target)")
            #expect(found.isSubset(of: allowed), "\(target) depends on \(found.subtracting(allowed).sorted())")
        }
        #expect(declared["SSLMPlan"] == ["SSLMCore", "SSLMConfig"], "the planner stays pure")
    }

    @Test("only SSLMDNS depends on CLDNS; nothing below SSLMCLI depends on it")
    func confinedModules() throws {
        let declared = try Self.declared()
        let onCLDNS = declared.filter { $0.value.contains("CLDNS") }.map(\.key)
        #expect(onCLDNS == ["SSLMDNS"], "\(onCLDNS)")
        let onCLI = declared.filter { $0.value.contains("SSLMCLI") }.map(\.key).sorted()
        #expect(onCLI.allSatisfy { $0 == "sslm" || $0.hasSuffix("Tests") }, "\(onCLI)")
    }

    /// The parser above reads what it should (so the checks cannot pass on an empty reading).
    @Test func thePackageIsRead() throws {
        let declared = try Self.declared()
        #expect(declared.count >= 20, "\(declared.keys.sorted())")
        #expect(declared["SSLMApply"]?.contains("SSLMDeploy") == true)
        #expect(declared["SSLMObserveTests"]?.contains("SSLMDNS") == true)
        #expect(declared["SSLMACME"] == ["SSLMCore"], "products are not targets")
    }
}
