import Foundation
import SSLMTestSupport
import Testing

/// DESIGN.md: one direction of dependencies; SSLMPlan is pure and imports no I/O module.
@Suite("Module dependency direction")
struct DependencyDirectionTests {
    private func imports(of module: String) throws -> Set<String> {
        let directory = SSLMProcess.repositoryRoot + "/Sources/" + module
        guard let enumerator = FileManager.default.enumerator(atPath: directory) else { return [] }
        var result: Set<String> = []
        for case let file as String in enumerator where file.hasSuffix(".swift") {
            let text = try String(contentsOfFile: directory + "/" + file, encoding: .utf8)
            for line in text.split(separator: "\n") {
                let trimmed = line.trimmingCharacters(in: .whitespaces)
                for prefix in ["import ", "@testable import ", "@_exported import "] where trimmed.hasPrefix(prefix) {
                    result.insert(String(trimmed.dropFirst(prefix.count).split(separator: " ").first ?? ""))
                }
            }
        }
        return result
    }

    @Test("SSLMPlan imports only SSLMCore, SSLMConfig and Foundation")
    func planIsPure() throws {
        let allowed: Set<String> = ["SSLMCore", "SSLMConfig", "Foundation"]
        let found = try imports(of: "SSLMPlan")
        #expect(found.isSubset(of: allowed), "SSLMPlan imports \(found.subtracting(allowed).sorted())")
    }

    @Test("only SSLMDNS imports CLDNS")
    func ldnsConfined() throws {
        for module in [
            "SSLMCore", "SSLMConfig", "SSLMObserve", "SSLMPlan", "SSLMApply", "SSLMPKI", "SSLMACME",
            "SSLMDeploy", "SSLMCLI", "sslm",
        ] {
            #expect(!(try imports(of: module)).contains("CLDNS"), "\(module) imports CLDNS")
        }
        #expect(try imports(of: "SSLMDNS").contains("CLDNS"))
    }

    @Test(
        "lower modules never import higher ones",
        arguments: [
            (
                "SSLMCore",
                [
                    "SSLMConfig", "SSLMObserve", "SSLMPlan", "SSLMApply", "SSLMPKI", "SSLMACME", "SSLMDNS",
                    "SSLMDeploy", "SSLMCLI",
                ]
            ),
            (
                "SSLMConfig",
                ["SSLMObserve", "SSLMPlan", "SSLMApply", "SSLMPKI", "SSLMACME", "SSLMDNS", "SSLMDeploy", "SSLMCLI"]
            ),
            (
                "SSLMPKI",
                ["SSLMConfig", "SSLMObserve", "SSLMPlan", "SSLMApply", "SSLMACME", "SSLMDNS", "SSLMDeploy", "SSLMCLI"]
            ),
            ("SSLMPlan", ["SSLMObserve", "SSLMApply", "SSLMPKI", "SSLMACME", "SSLMDNS", "SSLMDeploy", "SSLMCLI"]),
            ("SSLMApply", ["SSLMCLI"]),
        ])
    func direction(module: String, forbidden: [String]) throws {
        let found = try imports(of: module)
        #expect(found.isDisjoint(with: forbidden), "\(module) imports \(found.intersection(forbidden).sorted())")
    }
}
