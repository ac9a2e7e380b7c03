import SSLMCore

/// What two plans would do differently (`sslm show --diff OLD NEW`, for CI): actions added, removed or
/// changed, matched by id and grouped by subject (the service, else the apex or run-wide heading of the id).
///
/// An action is changed when its kind, service, typed payload or dependencies differ. Reason sentences,
/// times, fingerprints, digests and notes are not compared: two plans that would run the same actions in
/// the same dependency order are equal, however differently they explain it or whenever they were made.
public struct PlanDiff: Sendable, Hashable {
    /// One difference.
    public struct Entry: Sendable, Hashable {
        public enum Change: String, Sendable, Hashable {
            case added, removed, changed
        }

        public var change: Change
        /// The action's service (`group/service`), or the apex, or `servers`/`dns`/`acme` for run actions.
        public var subject: String
        public var id: String
        public var kind: String
        /// For `changed`: what differs, e.g. `params.sans: [a, b] → [a, b, c]`; for the others: the reason.
        public var details: [String]
    }

    public var entries: [Entry]

    public var isEmpty: Bool { entries.isEmpty }

    /// The differences from `old` to `new`, in the order of `new` (removed actions where they stood in `old`,
    /// after the entries of `new`).
    public init(old: Plan, new: Plan) {
        let before = Dictionary(old.actions.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let after = Set(new.actions.map(\.id))
        var entries: [Entry] = []
        for action in new.actions {
            guard let earlier = before[action.id] else {
                entries.append(Self.entry(.added, action, details: [action.reason.message]))
                continue
            }
            let details = Self.differences(earlier, action)
            if !details.isEmpty { entries.append(Self.entry(.changed, action, details: details)) }
        }
        for action in old.actions where !after.contains(action.id) {
            entries.append(Self.entry(.removed, action, details: [action.reason.message]))
        }
        self.entries = entries
    }

    /// The subjects in first-seen order, each with its entries.
    public var bySubject: [(subject: String, entries: [Entry])] {
        var order: [String] = []
        var groups: [String: [Entry]] = [:]
        for entry in entries {
            if groups[entry.subject] == nil { order.append(entry.subject) }
            groups[entry.subject, default: []].append(entry)
        }
        return order.map { ($0, groups[$0] ?? []) }
    }

    static func entry(_ change: Entry.Change, _ action: Action, details: [String]) -> Entry {
        Entry(change: change, subject: action.subject, id: action.id, kind: action.kind.rawValue, details: details)
    }

    /// What differs between two actions of the same id, one line per field.
    static func differences(_ old: Action, _ new: Action) -> [String] {
        var lines: [String] = []
        if old.kind != new.kind { lines.append("kind: \(old.kind.rawValue) → \(new.kind.rawValue)") }
        if old.service != new.service {
            lines.append("service: \(old.service ?? "none") → \(new.service ?? "none")")
        }
        let (before, after) = (old.params, new.params)
        for name in Set(before.keys).union(after.keys).sorted() where before[name] != after[name] {
            lines.append("params.\(name): \(text(before[name])) → \(text(after[name]))")
        }
        if old.dependsOn != new.dependsOn {
            lines.append("depends_on: \(list(old.dependsOn)) → \(list(new.dependsOn))")
        }
        return lines
    }

    static func text(_ value: PlanValue?) -> String {
        switch value {
        case nil: return "absent"
        case .string(let text)?: return text
        case .int(let number)?: return String(number)
        case .bool(let flag)?: return String(flag)
        case .strings(let items)?: return list(items)
        case .unknown(let what)?: return "(known after apply: \(what))"
        }
    }

    static func list(_ items: [String]) -> String { "[" + items.joined(separator: ", ") + "]" }
}
