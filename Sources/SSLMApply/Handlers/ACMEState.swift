import Foundation
import Logging
import SSLMACME
import SSLMConfig
import SSLMCore

/// One authorization of an order, as far as sslm needs it: the challenge of the configured type and the
/// value to publish for it.
struct PendingChallenge: Sendable {
    var authorizationURL: String
    /// The identifier as the CA names it (`*.example.com` for a wildcard).
    var identifier: String
    var status: String
    /// The challenge of the configured type; its token is base64url (checked by SSLMACME).
    var challenge: ACMEChallenge
    /// http-01: the key authorization; dns-01: the TXT value.
    var value: String
}

/// An open order of one service, learnt by `acme_order` and used by the later ACME actions of the run.
struct OpenOrder: Sendable {
    var order: ACMEOrder
    var directoryURL: String
    var validation: ACMESettings.Validation
    var challenges: [PendingChallenge]

    /// Digest of the `next/csr.pem` the order is for: a later run resumes the order only for the same CSR.
    var csrDigest: String

    /// The journal detail of `acme_order`: `order <url> csr <digest> directory <url> authz <url>…`. It is
    /// what a later run resumes from.
    var journalDetail: String {
        (["order", order.url, "csr", csrDigest, "directory", directoryURL, "authz"]
            + order.authorizations).joined(separator: " ")
    }

    /// Parses a journal detail written by `journalDetail`.
    static func parse(detail: String) -> (orderURL: String, csrDigest: String, directoryURL: String?)? {
        let words = detail.split(separator: " ").map(String.init)
        guard words.count >= 4, words[0] == "order", words[2] == "csr" else { return nil }
        let directory = words.count >= 6 && words[4] == "directory" ? words[5] : nil
        return (words[1], words[3], directory)
    }
}

/// The ACME state of one apply run, shared by actions that may run at the same time: a client per CA
/// directory (with its account set up once), and the open order of each service.
actor ACMERunState {
    private var clients: [String: Task<ACMEClient, any Error>] = [:]
    private var orders: [ServiceAddress: OpenOrder] = [:]

    /// The client for `directoryURL`, with the account of `email` registered (created on first use and
    /// stored under `<topdir>/.sslm/acme/accounts`).
    func client(
        directoryURL: String, authority: CertificateAuthority, settings: ACMESettings, email: String,
        accountsDirectory: String, logger: Logger, limits: ACMELimits
    ) async throws -> ACMEClient {
        let key = directoryURL + "\n" + email
        if let existing = clients[key] { return try await existing.value }
        let task = Task<ACMEClient, any Error> {
            let client = try ACMEClient(
                directoryURL: directoryURL, trustFile: settings.trustFile, logger: logger, limits: limits)
            let store = ACMEAccountStore(root: accountsDirectory)
            let (accountKey, _) = try store.key(directoryURL: directoryURL, email: email)
            var binding: ACMEExternalAccountBinding?
            if let kid = settings.externalAccountKeyID, let hmac = settings.externalAccountHMACKey {
                binding = ACMEExternalAccountBinding(keyID: kid, hmacKey: hmac.value)
            }
            let url = try await client.account(
                key: accountKey, contact: email.isEmpty ? [] : ["mailto:" + email], eab: binding)
            try store.record(directoryURL: directoryURL, email: email, accountURL: url)
            return client
        }
        clients[key] = task
        do {
            return try await task.value
        } catch {
            clients[key] = nil  // a later action may try again
            throw error
        }
    }

    func setOrder(_ order: OpenOrder, for address: ServiceAddress) { orders[address] = order }
    func order(for address: ServiceAddress) -> OpenOrder? { orders[address] }
    func updateChallenges(_ challenges: [PendingChallenge], for address: ServiceAddress) {
        orders[address]?.challenges = challenges
    }
}
