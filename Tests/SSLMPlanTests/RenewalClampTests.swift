import Foundation
import SSLMConfig
import SSLMCore
import SSLMPlan
import Testing

/// `RenewalAssessment` on a `RenewInfo` built in code, past the config's validation: extreme values are
/// clamped (target in [0, lifetime], spread in [0, target]) instead of trapping.
@Suite("Renewal assessment clamps what validation would have rejected")
struct RenewalClampTests {
    private static let notBefore = Date(timeIntervalSince1970: 1_780_000_000)

    private func facts(lifetimeDays: Double) -> CertificateFacts {
        CertificateFacts(
            notBefore: Self.notBefore, notAfter: Self.notBefore.addingTimeInterval(lifetimeDays * 86_400),
            serialHex: "0a1b2c", issuer: "CN=CA", subject: "CN=x", commonName: "x", dnsNames: ["x"], ipAddresses: [],
            keySpec: .default, publicKeyLabel: "ec", signatureAlgorithm: "ecdsa-with-SHA384", isCA: false,
            isSelfSigned: false, spkiSHA256: "00", certificateSHA256: "00")
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var target: Double
        var spread: Double
        var daysAfterIssue: Double
        var due: Bool
        var testDescription: String { name }
    }

    @Test(arguments: [
        Case(name: "target 1e308: due at once", target: 1e308, spread: 0, daysAfterIssue: 1, due: true),
        Case(name: "target -1e308: due once expired", target: -1e308, spread: 0, daysAfterIssue: 91, due: true),
        Case(name: "target -1e308: not due before expiry", target: -1e308, spread: 0, daysAfterIssue: 89, due: false),
        Case(name: "target NaN: as 0", target: .nan, spread: 0, daysAfterIssue: 90.5, due: true),
        Case(name: "spread 1e308 with target 30", target: 30, spread: 1e308, daysAfterIssue: 1, due: false),
        Case(name: "spread infinity: due once expired", target: 30, spread: .infinity, daysAfterIssue: 90.5, due: true),
        Case(name: "negative spread", target: 30, spread: -1e308, daysAfterIssue: 61, due: true),
    ])
    func clamped(_ testCase: Case) {
        let info = RenewInfo(targetPoints: [.init(90, testCase.target)], randomPoints: [.init(90, testCase.spread)])
        let now = Self.notBefore.addingTimeInterval(testCase.daysAfterIssue * 86_400)
        let assessment = RenewalAssessment(certificate: facts(lifetimeDays: 90), renewInfo: info, now: now)
        #expect((0...90).contains(assessment.targetDays))
        #expect((0...assessment.targetDays).contains(assessment.spreadDays))
        #expect(abs(assessment.adjustmentDays) <= assessment.spreadDays)
        #expect(assessment.isDue == testCase.due)
        #expect(!assessment.sentence.isEmpty)
    }
}
