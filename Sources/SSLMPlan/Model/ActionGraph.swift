/// A run's actions and their dependency edges, checked when it is made: every id appears once, every
/// dependency names an action of the graph, and the edges have no cycle. A graph that fails is a planner
/// bug; `ActionGraphError` names the ids, so the bug surfaces at plan time instead of at apply.
///
/// Holds the actions in the order the planner emitted them; `ActionOrdering` derives the execution order.
/// Not a check of saved plans: `sslm apply` validates what it reads itself.
struct ActionGraph {
    /// The actions, in the order the planner emitted them.
    let actions: [Action]
    /// Per action (by index), the indices of the actions it depends on, in `dependsOn` order.
    let dependencies: [[Int]]

    init(_ actions: [Action]) throws(ActionGraphError) {
        var index: [String: Int] = [:]
        for (position, action) in actions.enumerated() {
            guard index.updateValue(position, forKey: action.id) == nil else {
                throw ActionGraphError(.duplicateId, ids: [action.id])
            }
        }
        var dependencies: [[Int]] = []
        dependencies.reserveCapacity(actions.count)
        for action in actions {
            var edges: [Int] = []
            for dependency in action.dependsOn {
                guard let target = index[dependency] else {
                    throw ActionGraphError(.unknownDependency, ids: [action.id, dependency])
                }
                edges.append(target)
            }
            dependencies.append(edges)
        }
        if let cycle = Self.firstCycle(dependencies) {
            throw ActionGraphError(.cycle, ids: cycle.map { actions[$0].id })
        }
        self.actions = actions
        self.dependencies = dependencies
    }

    /// The first cycle a depth-first search in planner order meets, as the indices along it (each
    /// depends on the next, the last on the first); nil when the edges are acyclic.
    private static func firstCycle(_ dependencies: [[Int]]) -> [Int]? {
        enum Mark { case unvisited, onPath, done }
        var marks = [Mark](repeating: .unvisited, count: dependencies.count)
        for root in dependencies.indices where marks[root] == .unvisited {
            // The path from the root, with the next dependency to visit of each node on it.
            var path: [(node: Int, next: Int)] = [(root, 0)]
            marks[root] = .onPath
            while let top = path.last {
                let (node, next) = top
                guard next < dependencies[node].count else {
                    marks[node] = .done
                    path.removeLast()
                    continue
                }
                path[path.count - 1].next += 1
                let target = dependencies[node][next]
                switch marks[target] {
                case .done: continue
                case .onPath:
                    let start = path.firstIndex { $0.node == target } ?? 0
                    return path[start...].map(\.node)
                case .unvisited:
                    marks[target] = .onPath
                    path.append((target, 0))
                }
            }
        }
        return nil
    }
}

/// A planner bug found in the action graph of a run: the code says which rule broke and `ids` names the
/// actions (for an unknown dependency: the action, then the id it depends on; for a cycle: the actions
/// along it). Equal by code and ids, so tests can build the expected error.
struct ActionGraphError: Error, Hashable, CustomStringConvertible {
    /// The rule the graph breaks.
    enum Code: Hashable, Sendable {
        case duplicateId, unknownDependency, cycle
    }

    var code: Code
    var ids: [String]

    init(_ code: Code, ids: [String]) {
        self.code = code
        self.ids = ids
    }

    var description: String {
        switch code {
        case .duplicateId:
            "planner bug: action id \(ids.joined()) appears twice in the plan"
        case .unknownDependency:
            "planner bug: action \(ids.first ?? "?") depends on \(ids.last ?? "?"), which is no action of the plan"
        case .cycle:
            "planner bug: actions depend on each other in a cycle: "
                + (ids + ids.prefix(1)).joined(separator: " → ")
        }
    }
}

/// Puts a plan's actions in an order the executor can run: every action after its dependencies.
///
/// Actions that only depend on earlier ones keep their order (plans without ACME are unchanged). Among the
/// actions that are ready, the planner's order wins, except for the ACME stages (`ActionKind.runsConcurrently`,
/// from `ActionKind.traits`): those wait until nothing else is ready and then come out together, the
/// earliest stage first (orders, propagation waits, answers, finalizations), so that each stage of every
/// service forms one consecutive batch: http-01 answers wait for the dns-01 propagation and go with the
/// dns-01 answers.
///
/// Works on a checked `ActionGraph` only: an unknown dependency or a cycle never reaches it.
enum ActionOrdering {
    /// The actions in execution order; throws for a graph that breaks its rules (a planner bug).
    static func batched(_ actions: [Action]) throws(ActionGraphError) -> [Action] {
        batched(try ActionGraph(actions))
    }

    static func batched(_ graph: ActionGraph) -> [Action] {
        let actions = graph.actions
        var emitted = [Bool](repeating: false, count: actions.count)
        var remaining = Array(actions.indices)
        var result: [Action] = []
        result.reserveCapacity(actions.count)
        func ready(_ i: Int) -> Bool { graph.dependencies[i].allSatisfy { emitted[$0] } }
        while !remaining.isEmpty {
            if let position = remaining.firstIndex(where: { !actions[$0].kind.runsConcurrently && ready($0) }) {
                let i = remaining.remove(at: position)
                result.append(actions[i])
                emitted[i] = true
                continue
            }
            let readyBatch = remaining.filter { actions[$0].kind.runsConcurrently && ready($0) }
                .sorted { (actions[$0].kind.batchStage, $0) < (actions[$1].kind.batchStage, $1) }
            // An acyclic graph always has a ready action while some remain.
            guard let first = readyBatch.first else { preconditionFailure("ActionGraph: no ready action") }
            let batch = readyBatch.filter { actions[$0].kind == actions[first].kind }
            for i in batch {
                result.append(actions[i])
                emitted[i] = true
            }
            remaining.removeAll { batch.contains($0) }
        }
        return result
    }
}
