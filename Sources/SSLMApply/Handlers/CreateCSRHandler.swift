import Foundation
import SSLMConfig
import SSLMCore
import SSLMObserve
import SSLMPKI
import SSLMPlan
import X509

/// `create_csr`: `next/csr.pem` (the SANs come from the config; the payload's describe them).
struct CreateCSRHandler: ActionHandler {
    static let kind = ActionKind.createCSR

    static func payload(of payload: ActionPayload) throws -> [String] {
        guard case .createCSR(let sans) = payload else { throw mismatch(payload) }
        return sans
    }

    func perform(_: [String], of action: Action, in context: ActionContext) async throws -> String? {
        try context.run.createCSR(action)
    }
}

extension ApplyRun {
    /// `next/csr.pem` from `[X509]` and the SANs; CA role for the `ca` group.
    fileprivate func createCSR(_ action: Action) throws -> String? {
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
}
