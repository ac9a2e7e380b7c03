import SSLMConfig
import SSLMCore

/// What an action does, with its typed fields: one case per action kind.
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
    /// A service that left the config retired: its production directory removed (`production`), curr
    /// revoked at its ACME CA first (`revoke`), `certs/<group>/<service>` archived under `certs/.retired/`.
    case retireService(production: Bool, revoke: Bool)

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
        /// The profile asked for: the configured name, none, or `tlsserver` when the CA lists it (which the
        /// plan shows as known after apply).
        public var profile: ACMEProfileChoice
        public var preferredChain: String?
        /// ARI (RFC 9773): the order names `curr`'s certificate as the one it replaces.
        public var replacesCurrent: Bool

        public init(
            ca: String, type: ACMEChallengeType, identifiers: [String], directory: String,
            profile: ACMEProfileChoice,
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
        case .writeServiceTLSA: .writeTLSA
        case .writeApexTLSA: .writeApexTLSA
        case .publishTLSA: .publishTLSA
        case .roll: .roll
        case .syncServiceProduction: .syncProduction
        case .syncApexTLSA: .syncApexTLSA
        case .copyToServer: .copyToServer
        case .postCopy: .postCopy
        case .restartServer: .restartServer
        case .clean: .clean
        case .retireService: .retireService
        }
    }

    /// Whether the action belongs to a service (its `service` field is set) rather than to an apex or the
    /// whole run.
    public var isServiceAction: Bool {
        switch self {
        case .createNext, .generateKey, .reuseKey, .createCSR, .signLocal, .acmeOrder, .answerChallenges,
            .finalizeOrder, .writeBundle, .repairSet, .writeServiceTLSA, .roll, .syncServiceProduction, .clean,
            .retireService:
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
        case .reuseKey(let key): return ["from": .string("curr"), "key": .string(key.planText)]
        case .createCSR(let sans): return ["sans": .strings(sans)]
        case .signLocal(let signing):
            var fields: [String: PlanValue] = ["signer": .string(signing.signer)]
            if let days = signing.validityDays { fields["validity_days"] = .int(days) }
            if let digest = signing.digest { fields["digest"] = .string(digest) }
            return fields
        case .acmeOrder(let order):
            var fields: [String: PlanValue] = [
                "ca": .string(order.ca), "validation": .string(order.type.rawValue),
                "identifiers": .strings(order.identifiers), "directory": .string(order.directory),
            ]
            switch order.profile {
            case .named(let name): fields["profile"] = .string(name)
            case .tlsServerIfOffered: fields["profile"] = .unknown(Self.tlsServerIfOfferedText)
            case .noProfile: break
            }
            if let chain = order.preferredChain { fields["preferred_chain"] = .string(chain) }
            if order.replacesCurrent { fields["replaces"] = .string("curr") }
            return fields
        case .publishChallenges(_, let type, let services, let clear):
            var fields: [String: PlanValue] = [
                "validation": .string(type.rawValue), "services": .strings(services.map(\.description)),
            ]
            if clear { fields["clear"] = .bool(true) }
            return fields
        case .refreshDNS(let domains): return ["domains": .strings(domains)]
        case .awaitPropagation(let apex):
            return ["apex": .string(apex), "records": .unknown(Self.challengeRecordsText)]
        case .answerChallenges(let type): return ["validation": .string(type.rawValue)]
        case .finalizeOrder(let signer, let chain):
            var fields: [String: PlanValue] = ["signer": .string(signer)]
            if let chain { fields["preferred_chain"] = .string(chain) }
            return fields
        case .writeBundle: return [:]
        case .repairSet(let slot, let rebuild, let modes):
            return ["slot": .string(slot.rawValue), "rebuild": .strings(rebuild), "modes": .strings(modes)]
        case .writeServiceTLSA(let dane): return ["dane": .strings(dane)]
        case .writeApexTLSA(_, let rolling): return ["rolling": .bool(rolling)]
        case .publishTLSA(_, let directories): return ["directories": .strings(directories)]
        case .roll(let next): return ["next": next.map(PlanValue.string) ?? .unknown(Self.rolledDirectoryText)]
        case .syncServiceProduction(let curr, let next): return ["curr": .bool(curr), "next": .bool(next)]
        case .syncApexTLSA: return [:]
        case .copyToServer(let host, let sections): return ["host": .string(host), "sections": .strings(sections)]
        case .postCopy(let host, let command): return ["host": .string(host), "command": .string(command)]
        case .restartServer(let section, let host, let commands):
            return ["section": .string(section), "host": .string(host), "commands": .strings(commands)]
        case .clean(let remove): return ["remove": .strings(remove)]
        case .retireService(let production, let revoke):
            return [
                "archive": .unknown(Self.retiredDirectoryText), "production": .bool(production),
                "revoke": .bool(revoke),
            ]
        }
    }

    static let newDirectoryText = "db/<time of apply>"
    static let retiredDirectoryText = "certs/.retired/<group>/<service>/<time of apply>"
    static let rolledDirectoryText = "the new db directory"
    static let challengeRecordsText = "the challenges of the orders"
    static let tlsServerIfOfferedText = "tlsserver if the CA lists profiles and it, else none"
}

// MARK: - Reading the JSON form

extension ActionPayload {
    /// Reads the payload of a saved action from its kind, parameters and id. Throws `PlanFormatError`
    /// naming the action and the parameter for an unknown, missing or mistyped parameter, or an id that
    /// does not fit the kind.
    public init(kind: ActionKind, params: [String: PlanValue], id: String) throws(PlanFormatError) {
        var reader = ParameterReader(params: params, action: id, kind: kind)
        guard let actionID = ActionID(id), kind.accepts(actionID) else {
            throw PlanFormatError("action \(SafeName.printable(id)) (\(kind.rawValue)): not an id of this kind")
        }
        switch kind {
        case .createNext, .generateKey, .reuseKey, .createCSR, .signLocal, .writeBundle, .repairSet, .writeTLSA,
            .roll, .syncProduction, .clean, .retireService:
            self = try Self.readServiceStep(kind, &reader)
        case .acmeOrder, .publishChallenges, .refreshDNS, .awaitPropagation, .answerChallenges, .finalizeOrder:
            self = try Self.readACMEStep(kind, &reader, id: actionID)
        case .writeApexTLSA, .publishTLSA, .syncApexTLSA, .copyToServer, .postCopy, .restartServer:
            self = try Self.readApexOrRunStep(kind, &reader, id: actionID)
        }
        try reader.finish()
    }

    /// The payload of a kind that builds, rolls, copies or cleans one service's certificates.
    private static func readServiceStep(_ kind: ActionKind, _ reader: inout ParameterReader) throws(PlanFormatError)
        -> ActionPayload
    {
        switch kind {
        case .createNext:
            try reader.unknown("directory")
            return .createNext
        case .generateKey:
            return .generateKey(try reader.keySpec("key"))
        case .reuseKey:
            guard try reader.string("from") == "curr" else { throw reader.error("from", "must be \"curr\"") }
            return .reuseKey(try reader.keySpec("key"))
        case .createCSR:
            return .createCSR(sans: try reader.strings("sans"))
        case .signLocal:
            return .signLocal(
                LocalSigning(
                    signer: try reader.string("signer"), validityDays: try reader.optionalInt("validity_days"),
                    digest: try reader.optionalString("digest")))
        case .writeBundle:
            return .writeBundle
        case .repairSet:
            guard let slot = CertificateSlot(rawValue: try reader.string("slot")) else {
                throw reader.error("slot", "must be \"curr\" or \"next\"")
            }
            return .repairSet(slot: slot, rebuild: try reader.strings("rebuild"), modes: try reader.strings("modes"))
        case .writeTLSA:
            return .writeServiceTLSA(dane: try reader.strings("dane"))
        case .roll:
            return .roll(next: try reader.stringOrUnknown("next"))
        case .syncProduction:
            return .syncServiceProduction(curr: try reader.bool("curr"), next: try reader.bool("next"))
        case .clean:
            return .clean(remove: try reader.strings("remove"))
        case .retireService:
            try reader.unknown("archive")
            return .retireService(production: try reader.bool("production"), revoke: try reader.bool("revoke"))
        default:
            throw reader.error("kind", "is not a service step (a plan-reading bug)")
        }
    }

    /// The payload of an ACME kind.
    private static func readACMEStep(_ kind: ActionKind, _ reader: inout ParameterReader, id: ActionID)
        throws(PlanFormatError) -> ActionPayload
    {
        switch kind {
        case .acmeOrder:
            let replaces = try reader.optionalString("replaces")
            guard replaces == nil || replaces == "curr" else { throw reader.error("replaces", "must be \"curr\"") }
            return .acmeOrder(
                ACMEOrderRequest(
                    ca: try reader.string("ca"), type: try reader.challengeType("validation"),
                    identifiers: try reader.strings("identifiers"), directory: try reader.string("directory"),
                    profile: try reader.profile("profile"),
                    preferredChain: try reader.optionalString("preferred_chain"),
                    replacesCurrent: replaces != nil))
        case .publishChallenges:
            return .publishChallenges(
                apex: id.apex ?? "", type: try reader.challengeType("validation"),
                services: try reader.services("services"), clear: try reader.optionalBool("clear") ?? false)
        case .refreshDNS:
            return .refreshDNS(domains: try reader.strings("domains"))
        case .awaitPropagation:
            try reader.unknown("records")
            let apex = try reader.string("apex")
            guard id.apex == apex else { throw reader.error("apex", "is not the apex of the id") }
            return .awaitPropagation(apex: apex)
        case .answerChallenges:
            return .answerChallenges(type: try reader.challengeType("validation"))
        case .finalizeOrder:
            return .finalizeOrder(
                signer: try reader.string("signer"), preferredChain: try reader.optionalString("preferred_chain"))
        default:
            throw reader.error("kind", "is not an ACME step (a plan-reading bug)")
        }
    }

    /// The payload of a kind that acts on an apex's TLSA records, a server or the whole run.
    private static func readApexOrRunStep(_ kind: ActionKind, _ reader: inout ParameterReader, id: ActionID)
        throws(PlanFormatError) -> ActionPayload
    {
        switch kind {
        case .writeApexTLSA:
            return .writeApexTLSA(apex: id.apex ?? "", rolling: try reader.bool("rolling"))
        case .publishTLSA:
            return .publishTLSA(apex: id.apex ?? "", directories: try reader.strings("directories"))
        case .syncApexTLSA:
            return .syncApexTLSA(apex: id.apex ?? "")
        case .copyToServer:
            let host = try reader.host("host", id: id)
            return .copyToServer(host: host, sections: try reader.strings("sections"))
        case .postCopy:
            let host = try reader.host("host", id: id)
            return .postCopy(host: host, command: try reader.string("command"))
        case .restartServer:
            let section = try reader.string("section")
            guard case .restart(section, _) = id else { throw reader.error("section", "is not the section of the id") }
            let host = try reader.host("host", id: id)
            return .restartServer(section: section, host: host, commands: try reader.strings("commands"))
        default:
            throw reader.error("kind", "is not an apex or run step (a plan-reading bug)")
        }
    }
}

extension ActionKind {
    /// Whether `id` has the shape of this kind's ids (Docs/plan-format.md, "Actions").
    public func accepts(_ id: ActionID) -> Bool {
        switch (self, id) {
        case (.createNext, .service(_, let step)): step == .nextDirectory
        case (.generateKey, .service(_, let step)), (.reuseKey, .service(_, let step)): step == .nextKey
        case (.createCSR, .service(_, let step)): step == .nextRequest
        case (.signLocal, .service(_, let step)), (.finalizeOrder, .service(_, let step)): step == .nextCertificate
        case (.acmeOrder, .service(_, let step)): step == .nextOrder
        case (.answerChallenges, .service(_, let step)): step == .nextAnswer
        case (.writeBundle, .service(_, let step)): step == .nextBundle
        case (.writeTLSA, .service(_, let step)): step == .nextTLSA
        case (.repairSet, .service(_, let step)): step == .currRepair || step == .nextRepair
        case (.roll, .service(_, let step)): step == .roll
        case (.syncProduction, .service(_, let step)): step == .production
        case (.clean, .service(_, let step)): step == .clean
        case (.retireService, .service(_, let step)): step == .retire
        case (.publishChallenges, .acmeBatch(_, _, let step)): step == .publish || step == .clear
        case (.awaitPropagation, .acmeBatch(_, .dns01, let step)): step == .await
        case (.refreshDNS, .dnsRefresh), (.refreshDNS, .acmeChallengeRefresh), (.refreshDNS, .acmeClearedRefresh):
            true
        case (.writeApexTLSA, .apexTLSA), (.publishTLSA, .apexTLSAPublish), (.syncApexTLSA, .apexProduction):
            true
        case (.copyToServer, .copyToServer), (.postCopy, .postCopy), (.restartServer, .restart): true
        default: false
        }
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
        guard let key = KeySpec(planText: text), key.planText == text else {
            throw error(name, "\"\(SafeName.printable(text))\" is not a key type (ec secp384r1, rsa 4096, ed25519, …)")
        }
        return key
    }

    /// `acme_order`'s profile: a name, or `known_after_apply` for "tlsserver if the CA lists it"; absent
    /// when no profile is asked for.
    mutating func profile(_ name: String) throws(PlanFormatError) -> ACMEProfileChoice {
        switch value(name) {
        case nil: return .noProfile
        case .string(let text)?: return .named(text)
        case .unknown(ActionPayload.tlsServerIfOfferedText)?: return .tlsServerIfOffered
        default:
            throw error(
                name, "expected a profile name or {\"known_after_apply\": \"\(ActionPayload.tlsServerIfOfferedText)\"}")
        }
    }

    /// The host parameter of a server action, which must be the host of its id.
    mutating func host(_ name: String, id: ActionID) throws(PlanFormatError) -> String {
        let host = try string(name)
        guard id.host == host else { throw error(name, "is not the host of the id") }
        return host
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
