import Foundation
import Testing

@testable import SSLMPlan

/// `PlanText.days` formats whole tenths itself; its text must stay what `%.1f` gave (plans are compared
/// byte for byte).
@Suite("PlanText.days gives the text of %.1f")
struct PlanTextTests {
    private func reference(_ value: Double) -> String {
        let rounded = (value * 10).rounded() / 10
        return String(format: "%.1f d", rounded == 0 ? 0 : rounded)
    }

    @Test(arguments: [
        0, -0.0, 0.04, -0.04, 0.05, -0.05, 0.25, 1, 9.95, 29.96, 30, 89.99, -3.14159, 1234.56, 1e9, -1e9,
        0.1 + 0.2, 2.675, -2.675, 59.94999999, 1e20, -1e20, .infinity, -.infinity,
    ])
    func sameAsFormat(value: Double) {
        #expect(PlanText.days(value) == reference(value))
    }

    @Test func manyValues() {
        var value = -400.0
        while value < 400 {
            #expect(PlanText.days(value) == reference(value), "\(value)")
            value += 0.0137
        }
    }
}
