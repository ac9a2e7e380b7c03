import Foundation
import Logging
import SSLMACME
import SSLMConfig
import SSLMCore
import SSLMDNS
import SSLMDeploy
import SSLMObserve
import SSLMPKI
import SSLMPlan
import SwiftASN1
import X509

/// `finalize_order`: a service's order finalized; `next`'s certificate and chain from the CA.
struct FinalizeOrderHandler: ActionHandler {
    static let kind = ActionKind.finalizeOrder

    static func payload(of payload: ActionPayload) throws -> String? {
        guard case .finalizeOrder(_, let preferredChain) = payload else { throw mismatch(payload) }
        return preferredChain
    }

    func perform(_ preferredChain: String?, of action: Action, in context: ActionContext) async throws -> String? {
        let detail = try await context.run.recordingOrderFailure(action) {
            try await context.run.finalizeOrder(action, preferredChain: preferredChain, logger: context.logger)
        }
        if let service = action.service {
            try OrderFailureLog.clear(service: service, topdir: context.run.topdir)
        }
        return detail
    }
}

extension ApplyRun {
    /// Finalizes the order with `next/csr.pem`, downloads the chain (the preferred one when configured),
    /// checks it, and writes `next/cert.pem`, `chain.pem` and `fullchain.pem`.
    fileprivate func finalizeOrder(_ action: Action, preferredChain: String?, logger: Logger) async throws -> String? {
        let (address, service) = try service(of: action)
        guard let open = try await ensureOrder(address, logger: logger) else {
            throw SSLMError(.ioFailure, "\(address): no open ACME order (acme_order did not run): make a new plan")
        }
        let (_, settings) = try acmeAuthority(of: service)
        let client = try await acmeClient(for: open, service: service, logger: logger)
        let next = try ServiceTree(topdir: topdir, address: address).required("next")
        let requestPath = next + "/" + CertificateFileSet.Name.request
        let request = try CertificateRequestBuilder.parse(
            pem: String(decoding: try FileBytes.read(requestPath), as: UTF8.self), file: requestPath)
        let key = try KeyPair.read(path: next + "/" + CertificateFileSet.Name.privateKey)
        guard key.matches(request.publicKey) else {
            throw SSLMError(.keyMismatch, "\(requestPath) was not made for next/privkey.pem: make a new plan")
        }
        var order = try await client.order(url: open.order.url)
        if order.status == "pending" {
            order = try await client.pollOrder(url: order.url, until: ["ready", "valid"])
        }
        if order.status == "ready" {
            var serializer = DER.Serializer()
            try serializer.serialize(request)
            order = try await client.finalize(order, csrDER: serializer.serializedBytes)
        }
        if order.status != "valid" {
            order = try await client.pollOrder(url: order.url, until: ["valid"])
        }
        guard let certificateURL = order.certificate else {
            throw SSLMError(.ioFailure, "order \(order.url) is valid but names no certificate")
        }
        let chain = try await client.downloadCertificate(
            url: certificateURL, preferredChain: preferredChain ?? settings.preferredChain)
        var spki = DER.Serializer()
        try spki.serialize(key.publicKey)
        do {
            try ACMEChainCheck.verify(chain, expectedPublicKeyDER: spki.serializedBytes, identifiers: service.sans)
        } catch {
            throw SSLMError(.verificationFailed, "the certificate from \(certificateURL) is refused: \(error)")
        }
        let blocks = try PEMBlock.parseAll(Array(chain.pem.utf8), file: certificateURL)
            .filter { $0.label == "CERTIFICATE" }
        guard let leaf = blocks.first, blocks.count >= 2 else {
            throw SSLMError(.malformedInput, "\(certificateURL) holds no chain (\(blocks.count) certificates)")
        }
        let leafPEM = leaf.pemText
        let chainPEM = blocks.dropFirst().map(\.pemText).joined()
        try CertificateFileSet.writeCertificates(
            certificatePEM: leafPEM, chainPEM: chainPEM, fullchainPEM: leafPEM + chainPEM, to: next,
            root: topdir)
        let account = await client.currentAccountURL()
        try CertificateLedger.update(
            topdir: topdir, certificateSHA256: ContentDigest.sha256Hex(leaf.derBytes),
            start: CertificateRecord(ca: service.signer.description)
        ) { _ in
            CertificateRecord(
                ca: service.signer.description, directory: open.directoryURL, account: account,
                issued: now)
        }
        let top = chain.rootIssuerCommonName.map { " (chain to \($0))" } ?? ""
        return "issued by \(service.signer)\(top), \(blocks.count - 1) intermediate(s)"
    }
}
