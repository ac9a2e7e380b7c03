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
        if next.steps.contains(.cert), case .authority(let name) = service.signer,
            context.config.certificateAuthorities[name]?.acme != nil,
            let backoff = ServiceChecks.orderIsBackingOff(service, state: state, context: context)
        {
            return (nil, Note(subject: subject, reason: Reason(.orderBackoff, reason.message + "; " + backoff.message)))
        }
        var build = NextBuild(reason: reason, steps: [])
        func add(_ step: ActionID.ServiceStep, _ payload: ActionPayload) {
            build.steps.append(Step(step: step, payload: payload))
        }
        if next.newDirectory { add(.nextDirectory, .createNext) }
        if next.steps.contains(.key) {
            let currKey = state.dbDir(state.curr)?.key
            let revoked = state.dbDir(state.curr)?.certificate.flatMap { context.observation.record(of: $0)?.revoked }
            let reuse = context.request.reuseKey && currKey?.spec == service.key && currKey != nil && revoked == nil
            add(.nextKey, reuse ? .reuseKey(service.key) : .generateKey(service.key))
        }
        if next.steps.contains(.csr) { add(.nextRequest, .createCSR(sans: service.sans)) }
        if next.steps.contains(.cert) {
            if case .authority(let name) = service.signer, let acme = context.config.certificateAuthorities[name]?.acme
            {
                build.acmeValidation = acme.validation
                let order = acmeOrder(service, state: state, caName: name, acme: acme, context: context)
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

    /// The order sent to an ACME CA. ARI (RFC 9773): a renewal names the certificate it replaces when
    /// Boulder's rules let the CA accept it (`replacesCurrent`); the executor sends it only when the CA offers
    /// renewalInfo.
    static func acmeOrder(
        _ service: ServiceConfig, state: ServiceState, caName: String, acme: ACMESettings, context: PlanningContext
    ) -> ActionPayload.ACMEOrderRequest {
        let directory = IssuerExpectation.directory(acme, staging: context.request.acmeStaging)
        return ActionPayload.ACMEOrderRequest(
            ca: caName, type: acme.validation, identifiers: service.sans, directory: directory,
            profile: acme.preferredProfile,
            preferredChain: acme.preferredChain.flatMap { $0.isEmpty ? nil : $0 },
            replacesCurrent: replacesCurrent(service, state: state, directory: directory, context: context))
    }

    /// Whether the order names curr as the certificate it replaces: only when sslm recorded that curr was
    /// ordered from the same directory with the account it uses now, curr has not expired, and the CA has
    /// not refused it as `replaces` before (Let's Encrypt refuses a certificate another account ordered, and
    /// one that was already replaced, and the order then fails).
    static func replacesCurrent(
        _ service: ServiceConfig, state: ServiceState, directory: String, context: PlanningContext
    ) -> Bool {
        guard let curr = state.dbDir(state.curr), let certificate = curr.certificate, !curr.problemsMakeUnusable,
            certificate.notAfter > context.request.now,
            let record = context.observation.record(of: certificate), record.directory == directory,
            record.replacesRefused == nil, let account = record.account
        else { return false }
        let key = CertificateRecord.accountKey(directory: directory, email: service.subject.email)
        return context.observation.acmeAccounts?[key] == account
    }
}

extension DBDirState {
    /// Whether the observer found problems that make this set unusable as the certificate being replaced.
    var problemsMakeUnusable: Bool { problems["cert.pem"] != nil }
}
