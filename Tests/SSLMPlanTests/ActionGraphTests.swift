import SSLMCore
import Testing

@testable import SSLMPlan

/// `ActionGraph` refuses a planner bug at plan time (an unknown dependency, a cycle, an id twice) and
/// names the actions; `ActionOrdering` puts a good graph in execution order.
@Suite("ActionGraph: checked dependency edges")
struct ActionGraphTests {
    static func action(_ id: String, _ kind: ActionPayload = .writeBundle, after: [String] = []) -> Action {
        Action(id: id, payload: kind, reason: Reason(.renewalDue, "test"), dependsOn: after)
    }

    @Test func unknownDependencyIsAPlannerError() {
        let actions = [Self.action("a"), Self.action("b", after: ["a", "missing"])]
        #expect(throws: ActionGraphError(.unknownDependency, ids: ["b", "missing"])) {
            try ActionGraph(actions)
        }
        #expect(throws: ActionGraphError(.unknownDependency, ids: ["b", "missing"])) {
            try ActionOrdering.batched(actions)
        }
    }

    @Test func cycleIsAPlannerErrorNamingItsActions() throws {
        let actions = [
            Self.action("start"), Self.action("a", after: ["start", "c"]), Self.action("b", after: ["a"]),
            Self.action("c", after: ["b"]),
        ]
        let error = try #require(throws: ActionGraphError.self) { try ActionGraph(actions) }
        #expect(error.code == .cycle)
        #expect(Set(error.ids) == ["a", "b", "c"])
        #expect(error.description.contains("→"))
    }

    @Test func selfDependencyIsACycle() {
        #expect(throws: ActionGraphError(.cycle, ids: ["a"])) { try ActionGraph([Self.action("a", after: ["a"])]) }
    }

    @Test func duplicateIdIsAPlannerError() {
        #expect(throws: ActionGraphError(.duplicateId, ids: ["a"])) {
            try ActionGraph([Self.action("a"), Self.action("a")])
        }
    }

    @Test func goodGraphIsOrderedAfterItsDependencies() throws {
        // Emitted before their dependencies: each comes right after the last action it waits for.
        let actions = [
            Self.action("late", after: ["b"]), Self.action("a"), Self.action("b", after: ["a"]), Self.action("c"),
        ]
        let ordered = try ActionOrdering.batched(actions).map(\.id)
        #expect(ordered == ["a", "b", "late", "c"])
    }

    @Test func concurrentKindsComeOutAsOneBatchByStage() throws {
        let order = ActionPayload.acmeOrder(
            .init(
                ca: "le", type: .http01, identifiers: ["x"], directory: "https://ca", profile: .named("tlsserver"),
                preferredChain: nil, replacesCurrent: false))
        let actions = [
            Self.action("o1", order),
            Self.action("f1", .finalizeOrder(signer: "le", preferredChain: nil), after: ["o1"]),
            Self.action("o2", order), Self.action("w"),
        ]
        let ordered = try ActionOrdering.batched(actions).map(\.id)
        #expect(ordered == ["w", "o1", "o2", "f1"])
    }
}
