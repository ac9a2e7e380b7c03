import Foundation
import SSLMCore
import SwiftASN1
@_spi(FixedExpiryValidationTime) import X509

/// `sslm verify`: a real path validation of a db directory's `cert.pem` against its `chain.pem` at a given
/// time (ssl-mgr only compared one issuer name and one signature).
///
/// Small checks run in order, each named after the condition it detects and returning a reason:
/// the key files match (`privkey.pem`, `bundle.pem` when present), the leaf is issued by the first chain
/// certificate (name, key identifier and signature), each chain certificate is issued by the next,
/// every certificate is valid at `now`, the leaf's names are consistent and usable for a server; then
/// swift-certificates' `Verifier` builds and validates the path with `RFC5280Policy` and a server
/// identity check. The trust anchor is the last certificate of `chain.pem` when it is self-signed,
/// otherwise the system trust store (ACME chains usually stop below the root).
/// It does not check revocation (no OCSP/CRL) and does not contact any server.
public enum ChainVerifier {
    /// The result of a verification.
    public struct Report: Sendable {
        public var checks: [ChainCheck]
        /// The certificates of `cert.pem` and `chain.pem`, for display.
        public var certificates: [Certificate]
        public var chain: [Certificate]
        /// What anchored the path: the chain's root subject or "system trust store".
        public var anchor: String

        public var verified: Bool { checks.allSatisfy(\.passed) }
        /// The first failure.
        public var reason: String? { checks.first { !$0.passed }?.failure }
    }

    /// Resolves `DIR` or `DIR/<file>` to the directory holding `cert.pem` and `chain.pem`.
    public static func directory(for path: String) throws -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw SSLMError(.fileUnreadable, "\(path): no such file or directory")
        }
        let directory = isDirectory.boolValue ? path : URL(fileURLWithPath: path).deletingLastPathComponent().path
        let fm = FileManager.default
        let name = CertificateFileSet.Name.self
        guard fm.fileExists(atPath: directory + "/" + name.certificate),
            fm.fileExists(atPath: directory + "/" + name.chain)
        else {
            throw SSLMError(.fileUnreadable, "\(directory): cert.pem and chain.pem are required in the directory")
        }
        return directory
    }

    /// Verifies the directory (see the type's documentation). Unreadable or malformed files throw; a
    /// certificate problem is a failed check in the report.
    public static func verify(directory: String, now: Date) async throws -> Report {
        let name = CertificateFileSet.Name.self
        let certPath = directory + "/" + name.certificate
        let chainPath = directory + "/" + name.chain
        let certificates = try CertificatePEM.read(path: certPath)
        let chain = try CertificatePEM.read(path: chainPath)
        guard let leaf = certificates.first else { throw SSLMError(.malformedInput, "\(certPath): no certificate") }
        var checks: [ChainCheck] = []
        let fm = FileManager.default
        let keyPath = directory + "/" + name.privateKey
        if fm.fileExists(atPath: keyPath) {
            let key = try KeyPair.read(path: keyPath)
            checks.append(
                ChainCheck(
                    name: "privateKeyMatchesCertificate",
                    failure: key.matches(leaf.publicKey) ? nil : "privkey.pem does not match cert.pem"))
        }
        let bundlePath = directory + "/" + name.bundle
        if fm.fileExists(atPath: bundlePath) {
            var failure: String?
            do {
                _ = try PEMInfoReport.render(
                    bytes: FileBytes.read(bundlePath), file: "bundle.pem", now: now, verbose: false)
                let bundleCerts = try PEMBlock.parseAll(FileBytes.read(bundlePath), file: bundlePath)
                    .filter { $0.label == "CERTIFICATE" }
                if bundleCerts.first?.derBytes != (try CertificatePEM.der(leaf)) {
                    failure = "bundle.pem does not contain cert.pem as its first certificate"
                }
            } catch let error as SSLMError {
                failure = error.message
            }
            checks.append(ChainCheck(name: "bundleIsKeyThenFullchain", failure: failure))
        }
        checks.append(
            issuedBy(
                leaf, chain.first, subjectName: "cert.pem", issuerName: "chain.pem certificate 1",
                check: "leafIssuedByFirstChainCertificate"))
        for index in chain.indices.dropLast() {
            checks.append(
                issuedBy(
                    chain[index], chain[index + 1], subjectName: "chain.pem certificate \(index + 1)",
                    issuerName: "chain.pem certificate \(index + 2)", check: "chainIsInIssuingOrder"))
        }
        var validity: String?
        for (index, certificate) in ([leaf] + chain).enumerated() {
            let label = index == 0 ? "cert.pem" : "chain.pem certificate \(index)"
            if now > certificate.notValidAfter {
                validity =
                    "\(label) (\(DistinguishedNameText.rfc4514(certificate.subject))) expired on "
                    + RelativeTime.utc(certificate.notValidAfter)
                break
            }
            if now < certificate.notValidBefore {
                validity =
                    "\(label) (\(DistinguishedNameText.rfc4514(certificate.subject))) is not valid before "
                    + RelativeTime.utc(certificate.notValidBefore)
                break
            }
        }
        checks.append(ChainCheck(name: "everyCertificateIsValidNow", failure: validity))
        let facts = try CertificateFacts(leaf)
        checks.append(namesAreConsistent(facts))

        // Path validation proper.
        let serverName = facts.dnsNames.first.map(testHostName)
        let path = await validatePath(
            leaf: leaf, anchorSource: chain, intermediates: chain, serverName: serverName,
            serverIP: serverName == nil ? facts.ipAddresses.first : nil, now: now, leafName: "cert.pem")
        checks.append(path.check)
        let anchor = path.anchor
        return Report(checks: checks, certificates: certificates, chain: chain, anchor: anchor)
    }

    /// The outcome of `verifyServed`.
    public struct ServedVerification: Sendable, Hashable {
        /// Why the path does not validate; nil when it does.
        public var failure: String?
        /// What anchored the path: the CA chain's root subject or "system trust store".
        public var anchor: String
        public var verified: Bool { failure == nil }
    }

    /// Validates a chain a server presented (leaf first, then what it sent along) for `host` at `now`: the
    /// same path validation as `verify(directory:now:)` (RFC 5280 and a server identity check), with the
    /// service's CA chain (`chain.pem`) choosing the trust anchor as there — its last certificate when it is
    /// self-signed (a local root), else the system trust store — and only the served certificates as
    /// intermediates, so a server that leaves out an intermediate does not verify, as for its clients.
    public static func verifyServed(chain served: [Certificate], caChain: [Certificate], host: String, now: Date)
        async -> ServedVerification
    {
        guard let leaf = served.first else {
            return ServedVerification(failure: "the server presented no certificate", anchor: "none")
        }
        let isAddress = HostName.isIPv4(host) || HostName.isIPv6(host)
        let path = await validatePath(
            leaf: leaf, anchorSource: caChain, intermediates: Array(served.dropFirst()),
            serverName: isAddress ? nil : host, serverIP: isAddress ? host : nil, now: now,
            leafName: "the served certificate")
        return ServedVerification(failure: path.check.failure, anchor: path.anchor)
    }

    /// Path validation of `leaf` through `intermediates` to the anchor `anchorSource` gives (its last
    /// certificate when self-signed, else the system trust store), with a server identity check for
    /// `serverName` or `serverIP`. A self-signed leaf that is the anchor itself only gets the identity check.
    static func validatePath(
        leaf: Certificate, anchorSource: [Certificate], intermediates: [Certificate], serverName: String?,
        serverIP: String?, now: Date, leafName: String
    ) async -> (check: ChainCheck, anchor: String) {
        let anchorCertificate = anchorSource.last.flatMap { last in
            last.issuer == last.subject && last.publicKey.isValidSignature(last.signature, for: last) ? last : nil
        }
        let roots: CertificateStore
        let anchor: String
        if let anchorCertificate {
            roots = CertificateStore([anchorCertificate])
            anchor = DistinguishedNameText.rfc4514(anchorCertificate.subject)
        } else {
            roots = CertificateStore.systemTrustRoots
            anchor = "system trust store"
        }
        let intermediateStore = CertificateStore(intermediates.filter { $0 != anchorCertificate })
        let result: CertificateValidationResult
        if let anchorCertificate, anchorCertificate == leaf {
            // A self-signed leaf (signing_ca = self) is its own trust anchor: RFC 5280 has no path to
            // validate (and its policy would demand CA:TRUE); only the server identity is checked.
            var verifier = Verifier(rootCertificates: roots) {
                SelfSignedLeafPolicy(validationTime: now)
                ServerIdentityPolicy(serverHostname: serverName, serverIP: serverIP)
            }
            result = await verifier.validate(leaf: leaf, intermediates: intermediateStore)
        } else {
            var verifier = Verifier(rootCertificates: roots) {
                RFC5280Policy(fixedExpiryValidationTime: now)
                ServerIdentityPolicy(serverHostname: serverName, serverIP: serverIP)
            }
            result = await verifier.validate(leaf: leaf, intermediates: intermediateStore)
        }
        switch result {
        case .validCertificate:
            return (ChainCheck(name: "pathValidates"), anchor)
        case .couldNotValidate(let failures):
            let reason =
                failures.first.map { "path validation: " + Self.concise(String(describing: $0.policyFailureReason)) }
                ?? "no valid path from \(leafName) to \(anchor)"
            return (ChainCheck(name: "pathValidates", failure: reason), anchor)
        }
    }

    static func issuedBy(
        _ subject: Certificate, _ issuer: Certificate?, subjectName: String, issuerName: String,
        check: String
    ) -> ChainCheck {
        guard let issuer else { return ChainCheck(name: check, failure: "chain.pem holds no certificate") }
        if subject.issuer != issuer.subject {
            return ChainCheck(
                name: check,
                failure: "\(subjectName) is issued by \(DistinguishedNameText.rfc4514(subject.issuer)), "
                    + "but \(issuerName) is \(DistinguishedNameText.rfc4514(issuer.subject)) (wrong chain)")
        }
        if let aki = (try? subject.extensions.authorityKeyIdentifier)?.flatMap({ $0.keyIdentifier }),
            let ski = (try? issuer.extensions.subjectKeyIdentifier)?.map({ $0.keyIdentifier }), aki != ski
        {
            return ChainCheck(
                name: check,
                failure: "\(subjectName)'s authority key identifier does not match "
                    + "\(issuerName)'s subject key identifier (wrong chain)")
        }
        guard issuer.publicKey.isValidSignature(subject.signature, for: subject) else {
            return ChainCheck(
                name: check,
                failure: "the signature of \(subjectName) does not verify with the key of "
                    + "\(issuerName) (tampered certificate or wrong issuer key)")
        }
        return ChainCheck(name: check)
    }

    static func namesAreConsistent(_ facts: CertificateFacts) -> ChainCheck {
        let name = "leafNamesAreUsable"
        if facts.sans.isEmpty {
            return ChainCheck(name: name, failure: "cert.pem has no subject alternative name (clients ignore the CN)")
        }
        if let cn = facts.commonName, case .success(let host) = HostName.classify(cn) {
            let listed = facts.sans.map { $0.lowercased() }
            if !listed.contains(host.text.lowercased()) && !listed.contains(cn.lowercased()) {
                return ChainCheck(name: name, failure: "the CN \(cn) of cert.pem is not among its SANs")
            }
        }
        return ChainCheck(name: name)
    }

    /// swift-certificates' reasons embed whole certificate dumps; keep only their subjects.
    static func concise(_ reason: String) -> String {
        guard
            let regex = try? NSRegularExpression(
                pattern: #"Certificate\(version: .*?subject: "([^"]*)".*?\]\)"#, options: [])
        else { return reason }
        let range = NSRange(reason.startIndex..., in: reason)
        return regex.stringByReplacingMatches(in: reason, options: [], range: range, withTemplate: "\"$1\"")
    }

    /// A concrete host name for a SAN, so that wildcard names can be checked too.
    static func testHostName(_ san: String) -> String {
        san.hasPrefix("*.") ? "sslm-verify" + san.dropFirst(1) : san
    }
}
