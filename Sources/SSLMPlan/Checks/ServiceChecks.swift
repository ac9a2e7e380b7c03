import Foundation
import SSLMConfig
import SSLMCore

/// The named checks of the planner, in the style of cert-manager's policies: each looks at one
/// condition and returns a reason (a code and a sentence) when the condition holds, nil otherwise.
/// Pure functions of their arguments.
enum ServiceChecks {
    // MARK: curr

    /// `certificateIsMissing`: no usable `curr` link.
    static func certificateIsMissing(_ state: ServiceState) -> Reason? {
        switch state.curr {
        case .absent:
            Reason(.certificateMissing, "no current certificate: the first one is made and becomes curr in this run")
        case .dangling(let target):
            Reason(
                .certificateMissing,
                "curr points to \(target), which does not exist: a new certificate becomes curr in this run")
        case .notALink, .valid: nil
        }
    }

    /// `currentSetIsIncomplete`: curr lacks a readable certificate or key, or they do not belong together.
    static func currentSetIsBroken(_ directory: DBDirState) -> Reason? {
        let where_ = "curr (db/\(directory.name))"
        if directory.certificate == nil {
            let problem = directory.problems["cert.pem"] ?? "cert.pem is missing"
            return Reason(.currentIncomplete, "\(where_): \(problem); a new certificate replaces it in this run")
        }
        guard let key = directory.key else {
            let problem = directory.problems["privkey.pem"] ?? "privkey.pem is missing"
            return Reason(.currentIncomplete, "\(where_): \(problem); a new certificate replaces it in this run")
        }
        if let certificate = directory.certificate, key.spkiSHA256 != certificate.spkiSHA256 {
            return Reason(
                .keyMismatch,
                "\(where_): privkey.pem does not belong to cert.pem; a new certificate replaces it in this run")
        }
        return nil
    }

    /// Files of a set that are made from the others: `chain.pem` (the local CA's fullchain, or the
    /// certificate itself when self-signed), `fullchain.pem` (cert + chain) and `bundle.pem` (key + fullchain).
    static let derivedFiles = ["chain.pem", "fullchain.pem", "bundle.pem"]

    /// `currentSetIsUnverified`: curr's certificate is not issued by its chain (or, with an unusable chain,
    /// by a local CA's current certificate), or its chain is damaged and cannot be rebuilt (an ACME chain:
    /// only the CA has it). Such a set never goes to production; a new certificate replaces it.
    static func currentSetIsUnverified(_ directory: DBDirState, chainCanBeRebuilt: Bool) -> Reason? {
        guard let damage = directory.damage else { return nil }
        let where_ = "curr (db/\(directory.name))"
        if let problem = damage["cert.pem"] {
            return Reason(.currentUnverified, "\(where_): \(problem); a new certificate replaces it in this run")
        }
        if let problem = damage["chain.pem"], !chainCanBeRebuilt {
            return Reason(
                .currentUnverified,
                "\(where_): \(problem), and only the CA can give the chain again; a new certificate replaces it in this run"
            )
        }
        return nil
    }

    /// What a `repair_set` of one set does: the derived files it rebuilds and the key files it gives mode 0600.
    struct Repair: Equatable {
        var rebuild: [String]
        var modes: [String]
        var reason: Reason
    }

    /// `currentSetIsDamaged` (and the same for next): derived files that are damaged or missing, and key
    /// files with a mode other than 0600. A rebuilt chain means a rebuilt fullchain and bundle, a rebuilt
    /// fullchain a rebuilt bundle. `chainSource` names where the chain comes from, for the sentence.
    static func setNeedsRepair(
        _ directory: DBDirState, slot: String, chainSource: String,
        ignoring skipped: Set<String> = []
    ) -> Repair? {
        let damage = directory.damage ?? [:]
        var rebuild = Set(derivedFiles.filter { damage[$0] != nil && !skipped.contains($0) })
        if rebuild.contains("chain.pem") { rebuild.formUnion(["fullchain.pem", "bundle.pem"]) }
        if rebuild.contains("fullchain.pem") { rebuild.insert("bundle.pem") }
        let modes = (directory.modeDrift ?? [:]).keys.sorted()
        guard !rebuild.isEmpty || !modes.isEmpty else { return nil }
        let files = derivedFiles.filter(rebuild.contains)
        var found = files.compactMap { damage[$0] }
        found += modes.map { "\($0) has mode \(directory.modeDrift?[$0] ?? "?")" }
        var what: [String] = []
        if !files.isEmpty {
            let sources =
                files.contains("chain.pem") ? "cert.pem and \(chainSource)" : "privkey.pem, cert.pem and chain.pem"
            what.append("rebuilding \(PlanText.list(files)) from \(sources)")
        }
        if !modes.isEmpty { what.append("setting \(PlanText.list(modes)) to mode 0600") }
        let message =
            "\(slot) (db/\(directory.name)): \(found.joined(separator: "; ")): \(what.joined(separator: ", "))"
        return Repair(rebuild: files, modes: modes, reason: Reason(.currentDamaged, message))
    }

    /// `certificateDiffersFromConfig`: SANs, CN, key type or size, or (with `checksSigner`) signer no longer
    /// as configured. curr's signer is `IssuerExpectation`'s (`issuerDiffersFromConfig`, reason `issuer_changed`).
    static func certificateDiffersFromConfig(
        _ certificate: CertificateFacts, service: ServiceConfig,
        signerSubject: String?, slot: String, checksSigner: Bool = true
    ) -> Reason? {
        let wanted = Set(service.sans.map(HostName.canonical))
        let have = Set(certificate.sans.map(HostName.canonical))
        if wanted != have {
            let missing = service.sans.filter { !have.contains(HostName.canonical($0)) }
            let extra = certificate.sans.filter { !wanted.contains(HostName.canonical($0)) }
            var parts: [String] = []
            if !missing.isEmpty { parts.append("config adds \(PlanText.list(missing))") }
            if !extra.isEmpty { parts.append("config drops \(PlanText.list(extra))") }
            return Reason(
                .configChanged, "\(slot) certificate names differ from [X509] sans: " + parts.joined(separator: "; "))
        }
        if let cn = certificate.commonName, cn != service.subject.commonName {
            return Reason(
                .configChanged, "\(slot) certificate CN is \"\(cn)\", config says \"\(service.subject.commonName)\"")
        }
        if certificate.keySpec != service.key {
            let have = certificate.keySpec.map(\.description) ?? certificate.publicKeyLabel
            return Reason(.configChanged, "\(slot) key is \(have), [KeyOpts] asks for \(service.key)")
        }
        guard checksSigner else { return nil }
        switch service.signer {
        case .selfSigned:
            if !certificate.isSelfSigned {
                return Reason(
                    .configChanged, "\(slot) certificate is issued by \(certificate.issuer); config says self-signed")
            }
        case .authority(let name):
            if let signerSubject, certificate.issuer != signerSubject {
                return Reason(
                    .configChanged,
                    "\(slot) certificate is issued by \(certificate.issuer), not by CA \"\(name)\" (\(signerSubject))")
            }
            if signerSubject == nil && certificate.isSelfSigned {
                return Reason(
                    .configChanged, "\(slot) certificate is self-signed; config says it is signed by \"\(name)\"")
            }
        }
        return nil
    }

    /// `issuerChanged`: the local CA that signed curr has a different current certificate now.
    static func issuerChanged(_ directory: DBDirState, caName: String, caFullchainDigest: String?, caRollsNow: Bool)
        -> Reason?
    {
        if caRollsNow {
            return Reason(.issuerChanged, "signing CA \"\(caName)\" gets a new certificate in this run; re-signing")
        }
        guard let caFullchainDigest, let chain = directory.files["chain.pem"] else { return nil }
        if chain != caFullchainDigest {
            return Reason(
                .issuerChanged,
                "signing CA \"\(caName)\" has a new current certificate; curr/chain.pem is the old chain")
        }
        return nil
    }

    /// `certificateIsRevoked`: `sslm revoke` revoked the certificate: a new key and certificate replace it,
    /// and it rolls in the same run.
    static func certificateIsRevoked(_ revocation: CertificateRecord.Revocation, slot: String) -> Reason {
        Reason(
            .certificateRevoked,
            "\(slot) certificate was revoked at \(Timestamps.rfc3339(revocation.at)) (\(revocation.reason)): "
                + "a new key and certificate replace it and become curr in this run")
    }

    /// `renewalIsDue`: ssl-mgr 7.x `[renew_info]` on curr.
    static func renewalIsDue(_ assessment: RenewalAssessment) -> Reason? {
        assessment.isDue ? Reason(.renewalDue, "curr " + assessment.sentence) : nil
    }

    /// `renewalWindowIsOpen`: the CA's ARI window, which replaces `[renew_info]` when the CA offers one.
    static func renewalWindowIsOpen(_ window: RenewalWindow, now: Date) -> Reason? {
        guard now >= window.renewAt else { return nil }
        var text =
            "the CA's renewal window (ARI) \(Timestamps.rfc3339(window.start)) – \(Timestamps.rfc3339(window.end)) "
            + "is open; this certificate renews from \(Timestamps.rfc3339(window.renewAt))"
        if let url = window.explanationURL { text += " (explanation: \(url))" }
        return Reason(.renewalDue, text)
    }

    // MARK: next

    /// What has to happen to a pending `next`.
    enum NextCondition: Equatable {
        case none
        /// The link is broken or the directory belongs to an outdated config: build a new one.
        case replace(Reason)
        /// Some steps are missing: resume with these steps only.
        case incomplete(missing: [Step], Reason)
        case complete
    }

    /// Steps of building a db directory, in order.
    enum Step: Int, Comparable {
        case key, csr, cert, bundle, tlsa
        static func < (lhs: Step, rhs: Step) -> Bool { lhs.rawValue < rhs.rawValue }

        /// The file the step writes.
        var fileName: String {
            switch self {
            case .key: "privkey.pem"
            case .csr: "csr.pem"
            case .cert: "cert.pem"
            case .bundle: "bundle.pem"
            case .tlsa: "tlsa.rr"
            }
        }
    }

    static func nextCondition(
        _ state: ServiceState, service: ServiceConfig, signerSubject: String?,
        caFullchainDigest: String?, caRollsNow: Bool, issuers: IssuerExpectation? = nil
    ) -> NextCondition {
        switch state.next {
        case .absent: return .none
        case .dangling(let target):
            return .replace(Reason(.nextBroken, "next points to \(target), which does not exist; building a new next"))
        case .notALink:
            return .replace(Reason(.nextBroken, "next is not a link; building a new next"))
        case .valid: break
        }
        guard let directory = state.dbDir(state.next) else { return .none }
        let slot = "next (db/\(directory.name))"
        if let key = directory.key, key.spec != service.key {
            return .replace(
                Reason(
                    .nextStale,
                    "\(slot) has a \(key.spec.map(\.description) ?? "unknown") key, [KeyOpts] asks for \(service.key); building a new next"
                ))
        }
        if directory.key == nil && directory.has("privkey.pem") {
            return .replace(
                Reason(
                    .nextStale,
                    "\(slot): \(directory.problems["privkey.pem"] ?? "privkey.pem is unreadable"); building a new next")
            )
        }
        var missing = missingSteps(
            directory, service: service, signerSubject: signerSubject, caFullchainDigest: caFullchainDigest,
            caRollsNow: caRollsNow)
        if let certificate = directory.certificate, issuers?.change(of: certificate, slot: slot) != nil {
            missing.formUnion([.cert, .bundle, .tlsa])
            if service.dane.isEmpty { missing.remove(.tlsa) }
        }
        if missing.isEmpty { return .complete }
        let steps = missing.sorted()
        let names = steps.map(\.fileName)
        return .incomplete(
            missing: steps, Reason(.nextIncomplete, "\(slot) is incomplete; resuming it: \(PlanText.list(names))"))
    }

    /// The steps a pending next still needs: a step's file is missing, damaged or does not fit the key,
    /// the config or the signer (the steps after it are then made again too).
    private static func missingSteps(
        _ directory: DBDirState, service: ServiceConfig, signerSubject: String?, caFullchainDigest: String?,
        caRollsNow: Bool
    ) -> Set<Step> {
        let slot = "next (db/\(directory.name))"
        var missing: Set<Step> = []
        if directory.key == nil { missing.formUnion([.key, .csr, .cert, .bundle, .tlsa]) }
        if directory.request == nil || directory.request?.spkiSHA256 != directory.key?.spkiSHA256 {
            missing.formUnion([.csr, .cert, .bundle, .tlsa])
        } else if let request = directory.request,
            Set(request.sans.map(HostName.canonical)) != Set(service.sans.map(HostName.canonical))
        {
            missing.formUnion([.csr, .cert, .bundle, .tlsa])
        }
        if let certificate = directory.certificate {
            if certificate.spkiSHA256 != directory.key?.spkiSHA256 {
                missing.formUnion([.cert, .bundle, .tlsa])
            } else if certificateDiffersFromConfig(
                certificate, service: service, signerSubject: signerSubject,
                slot: slot) != nil
            {
                missing.formUnion([.csr, .cert, .bundle, .tlsa])
            } else if caRollsNow || (caFullchainDigest != nil && directory.files["chain.pem"] != caFullchainDigest) {
                missing.formUnion([.cert, .bundle, .tlsa])
            }
        } else {
            missing.formUnion([.cert, .bundle, .tlsa])
        }
        for file in ["chain.pem", "fullchain.pem"] where !directory.has(file) {
            missing.formUnion([.cert, .bundle, .tlsa])
        }
        if !directory.has("bundle.pem") { missing.formUnion([.bundle]) }
        // A damaged file that exists: next is not in use yet, so it is made again (signed again, or its
        // bundle written again) rather than repaired.
        let damage = directory.damage ?? [:]
        for file in ["cert.pem", "chain.pem", "fullchain.pem"] where directory.has(file) && damage[file] != nil {
            missing.formUnion([.cert, .bundle, .tlsa])
        }
        if directory.has("bundle.pem") && damage["bundle.pem"] != nil { missing.insert(.bundle) }
        if !service.dane.isEmpty && !directory.has("tlsa.rr") { missing.insert(.tlsa) }
        if service.dane.isEmpty { missing.remove(.tlsa) }
        return missing
    }

    // MARK: production

    /// `productionDiffersFromCertificates`: the first difference between a db directory and its
    /// production copy, as a sentence naming the file; nil when they are equal.
    static func productionDifference(
        expected: [String: String]?, actual: [String: String]?,
        certsPath: String, prodPath: String
    ) -> String? {
        switch (expected, actual) {
        case (nil, nil): return nil
        case (nil, _?): return "\(prodPath)/ exists but \(certsPath) does not"
        case (_?, nil): return "\(prodPath)/ is missing"
        case (let expected?, let actual?):
            for name in expected.keys.sorted() {
                guard let digest = actual[name] else { return "\(prodPath)/\(name) is missing" }
                if digest != expected[name] { return "\(prodPath)/\(name) differs from \(certsPath)/\(name)" }
            }
            for name in actual.keys.sorted() where expected[name] == nil {
                return "\(prodPath)/\(name) is not in \(certsPath)"
            }
            return nil
        }
    }
}
