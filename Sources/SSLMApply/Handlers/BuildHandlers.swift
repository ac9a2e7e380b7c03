import Foundation
import SSLMConfig
import SSLMCore
import SSLMObserve
import SSLMPKI
import SSLMPlan
import X509

/// Handlers that build `next`: create_next, generate_key, reuse_key, create_csr, sign_local, write_bundle.
extension ApplyRun {
    /// `certs/<g>/<s>/db/<YYYYmmdd-HH:MM:SS>/` (0750) and `next` → `db/<name>`. The name is the apply
    /// time in local time; when taken, the next free second is used. Always a new directory: a pending
    /// next is resumed by the planner, which then plans no `create_next`.
    func createNext(_ action: Action) throws -> String? {
        let (address, _) = try service(of: action)
        let tree = ServiceTree(topdir: topdir, address: address)
        try FileOps.makeDirectories(tree.dbDirectory, root: topdir)
        var name = ""
        var created = false
        for offset in 0..<3600 {
            name = Timestamps.dbDirectoryName(now.addingTimeInterval(TimeInterval(offset)))
            guard FileOps.kind(tree.dbPath(name)) == .missing else { continue }
            try FileOps.makeDirectory(tree.dbPath(name), allowExisting: false, root: topdir)
            created = true
            break
        }
        guard created else {
            throw SSLMError(.ioFailure, "\(tree.dbDirectory): no free db directory name near \(name)")
        }
        try FileOps.syncDirectory(tree.dbDirectory)
        try AtomicFile.symlink(target: CertsLayout.linkTarget(dbName: name), at: tree.link("next"), root: topdir)
        return "db/" + name
    }

    /// `next/privkey.pem`: a new key of the configured type, PKCS#8, 0600.
    func generateKey(_ action: Action) throws -> String? {
        let (address, service) = try service(of: action)
        let next = try ServiceTree(topdir: topdir, address: address).required("next")
        let key = try KeyPair.generate(service.key)
        try key.write(to: next + "/" + CertificateFileSet.Name.privateKey, root: topdir)
        return key.label
    }

    /// `next/privkey.pem`: a copy of `curr/privkey.pem` (0600), checked to be a readable key of the
    /// configured type.
    func reuseKey(_ action: Action) throws -> String? {
        let (address, service) = try service(of: action)
        let tree = ServiceTree(topdir: topdir, address: address)
        let source = try tree.required("curr") + "/" + CertificateFileSet.Name.privateKey
        let next = try tree.required("next")
        let bytes = try FileBytes.read(source)
        let key = try KeyPair(pem: String(decoding: bytes, as: UTF8.self), file: source)
        guard key.spec == service.key else {
            throw SSLMError(
                .invalidArgument,
                "\(source) is a \(key.spec) key but \(service.file) asks for \(service.key): the key cannot be reused")
        }
        try AtomicFile.write(
            bytes, to: next + "/" + CertificateFileSet.Name.privateKey, mode: AtomicFile.privateMode, root: topdir)
        return "reused \(key.label) of curr"
    }

    /// `next/csr.pem` from `[X509]` and the SANs; CA role for the `ca` group.
    func createCSR(_ action: Action) throws -> String? {
        let (address, service) = try service(of: action)
        let next = try ServiceTree(topdir: topdir, address: address).required("next")
        let key = try KeyPair.read(path: next + "/" + CertificateFileSet.Name.privateKey)
        let x509 = service.subject
        let subject = SubjectFields(
            commonName: x509.commonName, organization: x509.organization,
            organizationalUnit: x509.organizationalUnit, locality: x509.locality, stateOrProvince: x509.state,
            country: x509.country, email: x509.email, subjectAlternativeNames: service.sans)
        let request = try CertificateRequestBuilder.make(subject: subject, key: key, role: Self.role(of: address))
        try AtomicFile.write(
            text: try CertificateRequestBuilder.pem(request), to: next + "/" + CertificateFileSet.Name.request,
            root: topdir)
        return nil
    }

    /// `next/cert.pem`, `chain.pem`, `fullchain.pem`: self-signed with the service's own `[CA]`, or
    /// signed by a local CA with `certs/ca/<ca>/curr/{privkey,cert}.pem` and the CA's `[CA]` (spec §3.3).
    func signLocal(_ action: Action) throws -> String? {
        let (address, service) = try service(of: action)
        let next = try ServiceTree(topdir: topdir, address: address).required("next")
        let keyPath = next + "/" + CertificateFileSet.Name.privateKey
        let requestPath = next + "/" + CertificateFileSet.Name.request
        let key = try KeyPair.read(path: keyPath)
        let request = try CertificateRequestBuilder.parse(
            pem: String(decoding: try FileBytes.read(requestPath), as: UTF8.self), file: requestPath)
        guard key.matches(request.publicKey) else {
            throw SSLMError(.keyMismatch, "\(requestPath) was not made for \(keyPath): make a new plan")
        }
        let role = Self.role(of: address)
        switch service.signer {
        case .selfSigned:
            let policy = try SigningPolicy.fromCASection(
                signEndDays: service.signing?.validityDays, digest: service.signing?.digest, signerFile: service.file)
            let certificate = try LocalSigner.selfSign(request: request, key: key, role: role, policy: policy, now: now)
            let pem = try CertificatePEM.encode(certificate)
            try CertificateFileSet.writeCertificates(
                certificatePEM: pem, chainPEM: pem, fullchainPEM: pem, to: next, root: topdir)
            return "self-signed, valid \(policy.validityDays) d"
        case .authority(let name):
            guard let authority = config.certificateAuthorities[name] else {
                throw SSLMError(.configInvalid, "\(service.file): signing_ca '\(name)' is not in ca-info.conf")
            }
            guard authority.isLocal else {
                throw SSLMError(.invalidArgument, "\(name) is an ACME CA: sign_local cannot issue from it")
            }
            let caAddress = authority.localAddress
            guard let caService = config.service(caAddress) else {
                throw SSLMError(.configInvalid, "local CA \(name) has no service file conf.d/\(caAddress)")
            }
            let caCurr = try ServiceTree(topdir: topdir, address: caAddress).required("curr")
            let policy = try SigningPolicy.fromCASection(
                signEndDays: caService.signing?.validityDays, digest: caService.signing?.digest,
                signerFile: caService.file)
            let signer = try LocalSigner(
                keyPath: caCurr + "/" + CertificateFileSet.Name.privateKey,
                certificatePath: caCurr + "/" + CertificateFileSet.Name.certificate, policy: policy)
            let certificate = try signer.sign(request: request, role: role, now: now)
            let certificatePEM = try CertificatePEM.encode(certificate)
            let chainPath = caCurr + "/" + CertificateFileSet.Name.fullchain
            var chainPEM = String(decoding: try FileBytes.read(chainPath), as: UTF8.self)
            guard !chainPEM.isEmpty else { throw SSLMError(.malformedInput, "\(chainPath) is empty") }
            if !chainPEM.hasSuffix("\n") { chainPEM += "\n" }
            try CertificateFileSet.writeCertificates(
                certificatePEM: certificatePEM, chainPEM: chainPEM, fullchainPEM: certificatePEM + chainPEM, to: next,
                root: topdir)
            return "signed by \(name), valid \(policy.validityDays) d"
        }
    }

    /// `next/bundle.pem` (0600): key + fullchain, after checking the key belongs to the certificate.
    func writeBundle(_ action: Action) throws -> String? {
        let (address, _) = try service(of: action)
        let next = try ServiceTree(topdir: topdir, address: address).required("next")
        try CertificateFileSet.writeBundle(in: next, root: topdir)
        return nil
    }

    static func role(of address: ServiceAddress) -> CertificateRole {
        address.group.lowercased() == GroupConfig.caGroup ? .certificateAuthority : .leaf
    }
}
