import Foundation
import SSLMCore
import X509

/// Whether the files of one `db/<timestamp>` directory form one consistent set that may be used (and
/// copied to production): `chain.pem` is in issuing order and issued `cert.pem` (signatures checked),
/// `fullchain.pem` is `cert.pem` followed by `chain.pem` (just `cert.pem` when the certificate is
/// self-signed), and `bundle.pem` is `privkey.pem` followed by that fullchain. Comparisons are of the
/// decoded blocks, so line endings and text outside the blocks do not matter.
///
/// Each check is small and returns a sentence when it fails; the result is file name → the first
/// problem found with that file (empty: the set is consistent). Used by the observer (which records it)
/// and by the production sync (which refuses a damaged set). It does not check the key against the
/// certificate (see `KeyCertificateMatch` and the observer's key facts), validity dates, trust anchors or
/// the configuration (the planner compares names and issuer with the config).
public enum CertificateSetCheck {
    /// `chain.pem` decoded, with the result of its own checks; cacheable by the file's digest (thousands of
    /// services of one CA share it).
    public struct Chain: Sendable {
        /// The certificates in file order.
        public var certificates: [Certificate]
        /// Their DER bytes, as read.
        public var ders: [[UInt8]]
        /// Why the chain is unusable (undecodable, empty, not in issuing order); nil when usable.
        public var failure: String?

        public var isUsable: Bool { failure == nil && !certificates.isEmpty }
    }

    /// What one check needs: the bytes of the files that exist (nil: the file is absent) and the leaf.
    public struct Input {
        /// `privkey.pem`.
        public var key: [UInt8]?
        /// The first certificate of `cert.pem` and its DER; nil when `cert.pem` is absent or unreadable.
        public var leaf: (certificate: Certificate, der: [UInt8])?
        public var chain: Chain?
        public var fullchain: [UInt8]?
        public var bundle: [UInt8]?
        /// Certificates that may have issued the leaf when `chain.pem` is unusable (the current
        /// certificates of the local CAs): a leaf one of them signed has a chain that can be rebuilt.
        public var fallbackIssuers: [Certificate]

        public init(
            key: [UInt8]?, leaf: (certificate: Certificate, der: [UInt8])?, chain: Chain?, fullchain: [UInt8]?,
            bundle: [UInt8]?, fallbackIssuers: [Certificate] = []
        ) {
            self.key = key
            self.leaf = leaf
            self.chain = chain
            self.fullchain = fullchain
            self.bundle = bundle
            self.fallbackIssuers = fallbackIssuers
        }
    }

    private typealias Names = CertificateFileSet.Name

    /// Decodes `chain.pem` and checks that each certificate is issued by the next one.
    public static func chain(_ bytes: [UInt8]) -> Chain {
        let blocks: [PEMBlock]
        do {
            blocks = try PEMBlock.parseAll(bytes, file: Names.chain)
        } catch {
            return Chain(certificates: [], ders: [], failure: message(error))
        }
        var certificates: [Certificate] = []
        for (index, block) in blocks.enumerated() {
            do {
                certificates.append(try CertificatePEM.decode(block, file: Names.chain, index: index))
            } catch {
                return Chain(certificates: [], ders: [], failure: message(error))
            }
        }
        let ders = blocks.map(\.derBytes)
        for index in certificates.indices.dropLast() {
            let check = ChainVerifier.issuedBy(
                certificates[index], certificates[index + 1], subjectName: "chain.pem certificate \(index + 1)",
                issuerName: "chain.pem certificate \(index + 2)", check: "chainIsInIssuingOrder")
            if let failure = check.failure {
                return Chain(certificates: certificates, ders: ders, failure: failure)
            }
        }
        return Chain(
            certificates: certificates, ders: ders,
            failure: certificates.isEmpty ? "chain.pem holds no certificate" : nil)
    }

    /// Reads `directory`'s files and checks them (for the executor; the observer passes the bytes it read).
    public static func problems(directory: String, fallbackIssuers: [Certificate] = []) -> [String: String] {
        func bytes(_ name: String) -> [UInt8]? { try? FileBytes.read(directory + "/" + name) }
        var leaf: (certificate: Certificate, der: [UInt8])?
        var problems: [String: String] = [:]
        if let certificateBytes = bytes(Names.certificate) {
            do {
                guard let block = try PEMBlock.parseAll(certificateBytes, file: Names.certificate).first else {
                    throw SSLMError(.malformedInput, "cert.pem: no PEM block found")
                }
                leaf = (try CertificatePEM.decode(block, file: Names.certificate), block.derBytes)
            } catch {
                problems[Names.certificate] = message(error)
            }
        }
        let found = check(
            Input(
                key: bytes(Names.privateKey), leaf: leaf, chain: bytes(Names.chain).map { Self.chain($0) },
                fullchain: bytes(Names.fullchain), bundle: bytes(Names.bundle), fallbackIssuers: fallbackIssuers))
        return found.merging(problems) { _, parse in parse }
    }

    /// The checks (see the type's documentation), file name → problem.
    public static func check(_ input: Input) -> [String: String] {
        var problems: [String: String] = [:]
        if input.key == nil { problems[Names.privateKey] = "privkey.pem is missing" }
        guard let leaf = input.leaf else {
            problems[Names.certificate] = "cert.pem is missing or unreadable"
            return problems
        }
        let chain = input.chain
        if let chain {
            if let failure = chain.failure { problems[Names.chain] = failure }
        } else {
            problems[Names.chain] = "chain.pem is missing"
        }

        // The leaf's issuer: the first chain certificate, or (chain unusable) a known issuer.
        var expectedFullchain: [[UInt8]]?
        if let chain, chain.isUsable {
            let selfSigned = chain.ders[0] == leaf.der
            let issuer = chain.certificates[0]
            if let failure = ChainVerifier.issuedBy(
                leaf.certificate, issuer, subjectName: "cert.pem",
                issuerName: selfSigned ? "cert.pem itself" : "chain.pem certificate 1",
                check: "leafIssuedByFirstChainCertificate"
            ).failure {
                problems[Names.certificate] = failure
            }
            expectedFullchain = selfSigned ? [leaf.der] : [leaf.der] + chain.ders
        } else {
            let candidates = [leaf.certificate] + input.fallbackIssuers
            let verified = candidates.contains { issuer in
                ChainVerifier.issuedBy(
                    leaf.certificate, issuer, subjectName: "cert.pem", issuerName: "issuer", check: "issuer"
                ).passed
            }
            if !verified {
                problems[Names.certificate] =
                    "cert.pem cannot be verified: chain.pem is unusable and no local CA's current certificate "
                    + "issued it"
            }
        }

        // fullchain.pem = cert.pem + chain.pem.
        var fullchainDERs: [[UInt8]]?
        if let bytes = input.fullchain {
            do {
                let blocks = try PEMBlock.parseAll(bytes, file: Names.fullchain)
                guard blocks.allSatisfy({ $0.label == "CERTIFICATE" }) else {
                    throw SSLMError(.malformedInput, "fullchain.pem holds a block that is not a certificate")
                }
                fullchainDERs = blocks.map(\.derBytes)
                if let expectedFullchain, fullchainDERs != expectedFullchain {
                    problems[Names.fullchain] = "fullchain.pem is not cert.pem followed by chain.pem"
                } else if expectedFullchain == nil, fullchainDERs?.first != leaf.der {
                    problems[Names.fullchain] = "fullchain.pem does not start with cert.pem"
                }
            } catch {
                problems[Names.fullchain] = message(error)
            }
        } else {
            problems[Names.fullchain] = "fullchain.pem is missing"
        }

        // bundle.pem = privkey.pem + fullchain.pem.
        if let bytes = input.bundle {
            do {
                let blocks = try PEMBlock.parseAll(bytes, file: Names.bundle)
                let keyBlocks = blocks.filter { $0.label.hasSuffix("PRIVATE KEY") }
                let certificates = blocks.filter { $0.label == "CERTIFICATE" }.map(\.derBytes)
                var key: PEMBlock?
                if let keyBytes = input.key {
                    key = try PEMBlock.parseAll(keyBytes, file: Names.privateKey).first {
                        $0.label.hasSuffix("PRIVATE KEY")
                    }
                }
                let wanted = expectedFullchain ?? fullchainDERs
                if keyBlocks.count != 1 || blocks.first?.label.hasSuffix("PRIVATE KEY") != true {
                    problems[Names.bundle] = "bundle.pem does not start with one private key"
                } else if let key, key.derBytes != keyBlocks[0].derBytes {
                    problems[Names.bundle] = "bundle.pem holds another key than privkey.pem"
                } else if let wanted, certificates != wanted {
                    problems[Names.bundle] = "bundle.pem is not privkey.pem followed by fullchain.pem"
                } else if blocks.count != 1 + certificates.count {
                    problems[Names.bundle] = "bundle.pem holds blocks other than the key and certificates"
                }
            } catch {
                problems[Names.bundle] = message(error)
            }
        } else {
            problems[Names.bundle] = "bundle.pem is missing"
        }
        return problems
    }

    private static func message(_ error: Error) -> String {
        if let error = error as? SSLMError { return error.message.split(separator: "\n").first.map(String.init) ?? "" }
        return String(describing: error)
    }
}
