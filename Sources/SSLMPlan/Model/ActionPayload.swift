import SSLMConfig
import SSLMCore

/// What an action does, with its typed fields: one case per action kind (two for `write_tlsa` and
/// `sync_production`, which act on a service or on an apex).
///
/// The plan's JSON keeps its `kind` and `params` (`kind` and `params` below render them; `init(kind:params:
/// id:)` reads them back and refuses an unknown, missing or mistyped parameter). The apex of an apex action
/// is not a parameter: it is part of the id (`ActionID`). Handlers read only these fields, never a
/// parameter by name.
public enum ActionPayload: Sendable, Hashable {
    /// A new dated db directory and `next` pointing to it.
    case createNext
    /// A new key for `next` (the service's configured key type).
    case generateKey(KeySpec)
    /// `next`'s key copied from `curr` (same type as configured).
    case reuseKey(KeySpec)
    case createCSR(sans: [String])
    case signLocal(LocalSigning)
    case acmeOrder(ACMEOrderRequest)
    /// The challenges of `services` published for `apex` (or removed, with `clear`).
    case publishChallenges(apex: String, type: ACMEChallengeType, services: [ServiceAddress], clear: Bool)
    case refreshDNS(domains: [String])
    case awaitPropagation(apex: String)
    case answerChallenges(type: ACMEChallengeType)
    case finalizeOrder(signer: String, preferredChain: String?)
    case writeBundle
    case repairSet(slot: CertificateSlot, rebuild: [String], modes: [String])
    /// `next/tlsa.rr` of a service.
    case writeServiceTLSA(dane: [String])
    /// `certs/<apex>/tlsa.<apex>`.
    case writeApexTLSA(apex: String, rolling: Bool)
    case publishTLSA(apex: String, directories: [String])
    /// `next` becomes `curr`; `next` is the db directory expected (nil: the one `create_next` makes).
    case roll(next: String?)
    case syncServiceProduction(curr: Bool, next: Bool)
    /// `<prod>/<apex>/tlsa.<apex>`.
    case syncApexTLSA(apex: String)
    case copyToServer(host: String, sections: [String])
    case postCopy(host: String, command: String)
    case restartServer(section: String, host: String, commands: [String])
    case clean(remove: [String])

    /// `sign_local`: who signs and, when known, the signing policy.
    public struct LocalSigning: Sendable, Hashable {
        /// `self` or a CA name.
        public var signer: String
        public var validityDays: Int?
        public var digest: String?

        public init(signer: String, validityDays: Int? = nil, digest: String? = nil) {
            self.signer = signer
            self.validityDays = validityDays
            self.digest = digest
        }
    }

    /// `acme_order`: the CA, its directory and what to ask for.
    public struct ACMEOrderRequest: Sendable, Hashable {
        public var ca: String
        public var type: ACMEChallengeType
        public var identifiers: [String]
        public var directory: String
        public var profile: String
        public var preferredChain: String?
        /// ARI (RFC 9773): the order names `curr`'s certificate as the one it replaces.
        public var replacesCurrent: Bool

        public init(
            ca: String, type: ACMEChallengeType, identifiers: [String], directory: String, profile: String,
            preferredChain: String?, replacesCurrent: Bool
        ) {
            self.ca = ca
            self.type = type
            self.identifiers = identifiers
            self.directory = directory
            self.profile = profile
            self.preferredChain = preferredChain
            self.replacesCurrent = replacesCurrent
        }
    }

    public var kind: ActionKind {
        switch self {
        case .createNext: .createNext
        case .generateKey: .generateKey
        case .reuseKey: .reuseKey
        case .createCSR: .createCSR
        case .signLocal: .signLocal
        case .acmeOrder: .acmeOrder
        case .publishChallenges: .publishChallenges
        case .refreshDNS: .refreshDNS
        case .awaitPropagation: .awaitPropagation
        case .answerChallenges: .answerChallenges
        case .finalizeOrder: .finalizeOrder
        case .writeBundle: .writeBundle
        case .repairSet: .repairSet
        case .writeServiceTLSA, .writeApexTLSA: .writeTLSA
        case .publishTLSA: .publishTLSA
        case .roll: .roll
        case .syncServiceProduction, .syncApexTLSA: .syncProduction
        case .copyToServer: .copyToServer
        case .postCopy: .postCopy
        case .restartServer: .restartServer
        case .clean: .clean
        }
    }

    /// Whether the action belongs to a service (its `service` field is set) rather than to an apex or the
    /// whole run.
    public var isServiceAction: Bool {
        switch self {
        case .createNext, .generateKey, .reuseKey, .createCSR, .signLocal, .acmeOrder, .answerChallenges,
            .finalizeOrder, .writeBundle, .repairSet, .writeServiceTLSA, .roll, .syncServiceProduction, .clean:
            true
        case .publishChallenges, .refreshDNS, .awaitPropagation, .writeApexTLSA, .publishTLSA, .syncApexTLSA,
            .copyToServer, .postCopy, .restartServer:
            false
        }
    }

    /// The parameters as the plan's JSON writes them.
    public var params: [String: PlanValue] {
        switch self {
        case .createNext: return ["directory": .unknown(Self.newDirectoryText)]
        case .generateKey(let key): return ["key": .string(key.planText)]
        case .reuseKey(let key): return ["from": .string("curr"), "key": .string(key.description)]
        case .createCSR(let sans): return ["sans": .strings(sans)]
        case .signLocal(let signing):
            var params: [String: PlanValue] = ["signer": .string(signing.signer)]
            if let days = signing.validityDays { params["validity_days"] = .int(days) }
            if let digest = signing.digest { params["digest"] = .string(digest) }
            return params
        case .acmeOrder(let order):
            var params: [String: PlanValue] = [
                "ca": .string(order.ca), "validation": .string(order.type.rawValue),
                "identifiers": .strings(order.identifiers), "directory": .string(order.directory),
                "profile": .string(order.profile),
            ]
            if let chain = order.preferredChain { params["preferred_chain"] = .string(chain) }
            if order.replacesCurrent { params["replaces"] = .string("curr") }
            return params
        case .publishChallenges(_, let type, let services, let clear):
            var params: [String: PlanValue] = [
                "validation": .string(type.rawValue), "services": .strings(services.map(\.description)),
            ]
            if clear { params["clear"] = .bool(true) }
            return params
        case .refreshDNS(let domains): return ["domains": .strings(domains)]
        case .awaitPropagation(let apex):
            return ["apex": .string(apex), "records": .unknown(Self.challengeRecordsText)]
        case .answerChallenges(let type): return ["validation": .string(type.rawValue)]
        case .finalizeOrder(let signer, let chain):
            var params: [String: PlanValue] = ["signer": .string(signer)]
            if let chain { params["preferred_chain"] = .string(chain) }
            return params
        case .writeBundle: return [:]
        case .repairSet(let slot, let rebuild, let modes):
            return ["slot": .string(slot.rawValue), "rebuild": .strings(rebuild), "modes": .strings(modes)]
        case .writeServiceTLSA(let dane): return ["dane": .strings(dane)]
        case .writeApexTLSA(_, let rolling): return ["rolling": .bool(rolling)]
        case .publishTLSA(_, let directories): return ["directories": .strings(directories)]
        case .roll(let next): return ["next": next.map(PlanValue.string) ?? .unknown(Self.rolledDirectoryText)]
        case .syncServiceProduction(let curr, let next): return ["curr": .bool(curr), "next": .bool(next)]
        case .syncApexTLSA: return ["tlsa": .bool(true)]
        case .copyToServer(let host, let sections): return ["host": .string(host), "sections": .strings(sections)]
        case .postCopy(let host, let command): return ["host": .string(host), "command": .string(command)]
        case .restartServer(let section, let host, let commands):
            return ["section": .string(section), "host": .string(host), "commands": .strings(commands)]
        case .clean(let remove): return ["remove": .strings(remove)]
        }
    }

    static let newDirectoryText = "db/<time of apply>"
    static let rolledDirectoryText = "the new db directory"
    static let challengeRecordsText = "the challenges of the orders"
}

// MARK: - Reading the JSON form

extension ActionPayload {
    /// Reads the payload of a saved action from its kind, parameters and id. Throws `PlanFormatError`
    /// naming the action and the parameter for an unknown, missing or mistyped parameter, or an id that
    /// does not fit the kind.
    public init(kind: ActionKind, params: [String: PlanValue], id: String) throws(PlanFormatError) {
        var reader = ParameterReader(params: params, action: id, kind: kind)
        guard let actionID = ActionID(id) else {
            throw PlanFormatError("action \(SafeName.printable(id)) (\(kind.rawValue)): not an sslm action id")
        }
        func apex() throws(PlanFormatError) -> String {
            guard let apex = actionID.apex else {
                throw PlanFormatError("action \(id) (\(kind.rawValue)): the id names no apex")
            }
            return apex
        }
        switch kind {
        case .createNext:
            try reader.unknown("directory")
            self = .createNext
        case .generateKey:
            self = .generateKey(try reader.keySpec("key"))
        case .reuseKey:
            guard try reader.string("from") == "curr" else { throw reader.error("from", "must be \"curr\"") }
            self = .reuseKey(try reader.keySpec("key"))
        case .createCSR:
            self = .createCSR(sans: try reader.strings("sans"))
        case .signLocal:
            self = .signLocal(
                LocalSigning(
                    signer: try reader.string("signer"), validityDays: try reader.optionalInt("validity_days"),
                    digest: try reader.optionalString("digest")))
        case .acmeOrder:
            let replaces = try reader.optionalString("replaces")
            guard replaces == nil || replaces == "curr" else { throw reader.error("replaces", "must be \"curr\"") }
            self = .acmeOrder(
                ACMEOrderRequest(
                    ca: try reader.string("ca"), type: try reader.challengeType("validation"),
                    identifiers: try reader.strings("identifiers"), directory: try reader.string("directory"),
                    profile: try reader.string("profile"), preferredChain: try reader.optionalString("preferred_chain"),
                    replacesCurrent: replaces != nil))
        case .publishChallenges:
            self = .publishChallenges(
                apex: try apex(), type: try reader.challengeType("validation"),
                services: try reader.services("services"), clear: try reader.optionalBool("clear") ?? false)
        case .refreshDNS:
            self = .refreshDNS(domains: try reader.strings("domains"))
        case .awaitPropagation:
            try reader.unknown("records")
            let apex = try reader.string("apex")
            guard actionID.apex == apex else { throw reader.error("apex", "is not the apex of the id") }
            self = .awaitPropagation(apex: apex)
        case .answerChallenges:
            self = .answerChallenges(type: try reader.challengeType("validation"))
        case .finalizeOrder:
            self = .finalizeOrder(
                signer: try reader.string("signer"), preferredChain: try reader.optionalString("preferred_chain"))
        case .writeBundle:
            self = .writeBundle
        case .repairSet:
            let slotText = try reader.string("slot")
            guard let slot = CertificateSlot(rawValue: slotText) else {
                throw reader.error("slot", "must be \"curr\" or \"next\"")
            }
            self = .repairSet(slot: slot, rebuild: try reader.strings("rebuild"), modes: try reader.strings("modes"))
        case .writeTLSA:
            if case .apexTLSA(let apex) = actionID {
                self = .writeApexTLSA(apex: apex, rolling: try reader.bool("rolling"))
            } else {
                self = .writeServiceTLSA(dane: try reader.strings("dane"))
            }
        case .publishTLSA:
            self = .publishTLSA(apex: try apex(), directories: try reader.strings("directories"))
        case .roll:
            self = .roll(next: try reader.stringOrUnknown("next"))
        case .syncProduction:
            if case .apexProduction(let apex) = actionID {
                guard try reader.bool("tlsa") else { throw reader.error("tlsa", "must be true") }
                self = .syncApexTLSA(apex: apex)
            } else {
                self = .syncServiceProduction(curr: try reader.bool("curr"), next: try reader.bool("next"))
            }
        case .copyToServer:
            self = .copyToServer(host: try reader.string("host"), sections: try reader.strings("sections"))
        case .postCopy:
            self = .postCopy(host: try reader.string("host"), command: try reader.string("command"))
        case .restartServer:
            self = .restartServer(
                section: try reader.string("section"), host: try reader.string("host"),
                commands: try reader.strings("commands"))
        case .clean:
            self = .clean(remove: try reader.strings("remove"))
        }
        try reader.finish()
    }
}

/// A saved plan that does not fit the plan format: the message names the action and, for a parameter,
/// the parameter.
public struct PlanFormatError: Error, Sendable, Hashable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) { self.description = description }
}

/// Reads the parameters of one action by name and type, remembering which were read so that `finish`
/// can refuse the rest.
private struct ParameterReader {
    let params: [String: PlanValue]
    let action: String
    let kind: ActionKind
    var read: Set<String> = []

    init(params: [String: PlanValue], action: String, kind: ActionKind) {
        self.params = params
        self.action = action
        self.kind = kind
    }

    func error(_ name: String, _ problem: String) -> PlanFormatError {
        PlanFormatError("action \(SafeName.printable(action)) (\(kind.rawValue)): parameter \(name) \(problem)")
    }

    private mutating func value(_ name: String) -> PlanValue? {
        read.insert(name)
        return params[name]
    }

    mutating func optionalString(_ name: String) throws(PlanFormatError) -> String? {
        switch value(name) {
        case nil: return nil
        case .string(let text): return text
        default: throw error(name, "is not a string")
        }
    }

    mutating func string(_ name: String) throws(PlanFormatError) -> String {
        guard let text = try optionalString(name) else { throw error(name, "is missing") }
        return text
    }

    mutating func strings(_ name: String) throws(PlanFormatError) -> [String] {
        switch value(name) {
        case nil: throw error(name, "is missing")
        case .strings(let list): return list
        default: throw error(name, "is not a list of strings")
        }
    }

    mutating func optionalBool(_ name: String) throws(PlanFormatError) -> Bool? {
        switch value(name) {
        case nil: return nil
        case .bool(let flag): return flag
        default: throw error(name, "is not true or false")
        }
    }

    mutating func bool(_ name: String) throws(PlanFormatError) -> Bool {
        guard let flag = try optionalBool(name) else { throw error(name, "is missing") }
        return flag
    }

    mutating func optionalInt(_ name: String) throws(PlanFormatError) -> Int? {
        switch value(name) {
        case nil: return nil
        case .int(let number): return number
        default: throw error(name, "is not a number")
        }
    }

    /// A value known only after apply.
    mutating func unknown(_ name: String) throws(PlanFormatError) {
        switch value(name) {
        case nil: throw error(name, "is missing")
        case .unknown: return
        default: throw error(name, "must be known only after apply")
        }
    }

    /// A string, or nil for a value known only after apply.
    mutating func stringOrUnknown(_ name: String) throws(PlanFormatError) -> String? {
        switch value(name) {
        case nil: throw error(name, "is missing")
        case .string(let text): return text
        case .unknown: return nil
        default: throw error(name, "is not a string")
        }
    }

    mutating func keySpec(_ name: String) throws(PlanFormatError) -> KeySpec {
        let text = try string(name)
        guard let key = KeySpec(planText: text) else {
            throw error(name, "\"\(SafeName.printable(text))\" is not a key type")
        }
        return key
    }

    mutating func challengeType(_ name: String) throws(PlanFormatError) -> ACMEChallengeType {
        let text = try string(name)
        guard let type = ACMEChallengeType(rawValue: text) else {
            throw error(name, "\"\(SafeName.printable(text))\" is not http-01 or dns-01")
        }
        return type
    }

    mutating func services(_ name: String) throws(PlanFormatError) -> [ServiceAddress] {
        var addresses: [ServiceAddress] = []
        for text in try strings(name) {
            guard let address = ServiceAddress(planText: text) else {
                throw error(name, "\"\(SafeName.printable(text))\" is not group/service")
            }
            addresses.append(address)
        }
        return addresses
    }

    func finish() throws(PlanFormatError) {
        if let extra = params.keys.sorted().first(where: { !read.contains($0) }) {
            throw error(SafeName.printable(extra), "is not a parameter of \(kind.rawValue)")
        }
    }
}
