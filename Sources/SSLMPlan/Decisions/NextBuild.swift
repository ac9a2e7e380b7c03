import SSLMConfig
import SSLMCore

/// The actions that build (or finish building) next in this run: the reason and each step with its
/// payload, in order. The emitter chains them and adds the waits on other actions (a local CA's roll,
/// the apex's ACME challenges).
struct NextBuild {
    /// One step of the build: the action's step id and what it does.
    struct Step {
        var step: ActionID.ServiceStep
        var payload: ActionPayload
    }

    var reason: Reason
    var steps: [Step]
    /// The challenge type, when the certificate comes from an ACME CA.
    var acmeValidation: ACMESettings.Validation?

    /// The build of next, or the note that says why there is none (the phase, or a signer that cannot
    /// sign now); nil and nil when next needs nothing.
    static func decide(
        _ service: ServiceConfig, next: NextDecision, state: ServiceState, signer: SignerFacts,
        context: PlanningContext
    ) -> (build: NextBuild?, note: Note?) {
        guard !next.steps.isEmpty, let reason = next.reason else { return (nil, nil) }
        let subject = service.address.description
        if context.request.phase == .roll {
            return (
                nil, Note(subject: subject, reason: Reason(.phaseSkipped, reason.message + " (not in --phase roll)"))
            )
        }
        if let blocked = signer.blocked {
            return (nil, Note(subject: subject, reason: Reason(.blocked, reason.message + "; but " + blocked)))
        }
        var build = NextBuild(reason: reason, steps: [])
        func add(_ step: ActionID.ServiceStep, _ payload: ActionPayload) {
            build.steps.append(Step(step: step, payload: payload))
        }
        if next.newDirectory { add(.nextDirectory, .createNext) }
        if next.steps.contains(.key) {
            let currKey = state.dbDir(state.curr)?.key
            let reuse = context.request.reuseKey && currKey?.spec == service.key && currKey != nil
            add(.nextKey, reuse ? .reuseKey(service.key) : .generateKey(service.key))
        }
        if next.steps.contains(.csr) { add(.nextRequest, .createCSR(sans: service.sans)) }
        if next.steps.contains(.cert) {
            if case .authority(let name) = service.signer, let acme = context.config.certificateAuthorities[name]?.acme
            {
                build.acmeValidation = acme.validation
                let order = acmeOrder(
                    service, state: state, caName: name, acme: acme, staging: context.request.acmeStaging)
                let chain = acme.preferredChain.flatMap { $0.isEmpty ? nil : $0 }
                add(.nextOrder, .acmeOrder(order))
                add(.nextAnswer, .answerChallenges(type: acme.validation))
                add(.nextCertificate, .finalizeOrder(signer: name, preferredChain: chain))
            } else {
                add(.nextCertificate, .signLocal(localSigning(service, config: context.config)))
            }
        }
        if next.steps.contains(.bundle) { add(.nextBundle, .writeBundle) }
        if next.steps.contains(.tlsa) { add(.nextTLSA, .writeServiceTLSA(dane: service.dane.map(\.description))) }
        return (build, nil)
    }

    /// The signing parameters of a local CA (or of a self-signed service).
    static func localSigning(_ service: ServiceConfig, config: Config) -> ActionPayload.LocalSigning {
        var payload = ActionPayload.LocalSigning(signer: service.signer.description)
        let signing: SigningSettings?
        switch service.signer {
        case .selfSigned: signing = service.signing
        case .authority(let name):
            signing = config.certificateAuthorities[name].flatMap { config.service($0.localAddress)?.signing }
        }
        if let signing {
            payload.validityDays = signing.validityDays
            payload.digest = signing.digest.rawValue
        }
        return payload
    }

    /// The order sent to an ACME CA. ARI (RFC 9773): a renewal names the certificate it replaces; the
    /// executor sends it only when the CA offers renewalInfo.
    static func acmeOrder(
        _ service: ServiceConfig, state: ServiceState, caName: String, acme: ACMESettings, staging: Bool
    ) -> ActionPayload.ACMEOrderRequest {
        let replacesCurrent = state.dbDir(state.curr).map { $0.certificate != nil && !$0.problemsMakeUnusable }
        return ActionPayload.ACMEOrderRequest(
            ca: caName, type: acme.validation, identifiers: service.sans,
            directory: staging ? (acme.stagingDirectoryURL ?? acme.directoryURL) : acme.directoryURL,
            profile: acme.preferredProfile,
            preferredChain: acme.preferredChain.flatMap { $0.isEmpty ? nil : $0 },
            replacesCurrent: replacesCurrent ?? false)
    }
}

extension DBDirState {
    /// Whether the observer found problems that make this set unusable as the certificate being replaced.
    var problemsMakeUnusable: Bool { problems["cert.pem"] != nil }
}
