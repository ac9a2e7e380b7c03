import SSLMConfig
import SSLMCore
import Testing

@Suite("[renew_info] (7.x) and renew_expire_days (6.x)")
struct RenewInfoTests {
    /// ssl-mgr's worked examples (spec §2.4), plus the sub-day case ssl-mgr got wrong (−1).
    @Test(arguments: [
        (90.0, 30.0, 0.0), (45.0, 10.0, 0.0), (100.0, 35.0, 5.0 / 3.0), (3650.0, 730.0, 0.0), (1825.0, 365.0, 0.0),
        (0.5, 0.375, 0.0), (0.0, 0.25, 0.0), (120.0, 45.0, 5.0), (300.0, 60.0, 0.0),
    ])
    func builtinFunction(lifetime: Double, target: Double, random: Double) {
        #expect(abs(RenewInfo.builtin.targetDays(lifetimeDays: lifetime) - target) < 1e-9)
        #expect(abs(RenewInfo.builtin.randomHalfWidthDays(lifetimeDays: lifetime) - random) < 1e-9)
    }

    @Test("L = 44.5 d gives ≈ 9.93 d and LE shortlived (6.67 d) ≈ 3 d")
    func interpolation() {
        #expect(abs(RenewInfo.builtin.targetDays(lifetimeDays: 44.5) - 9.9286) < 0.001)
        #expect(abs(RenewInfo.builtin.targetDays(lifetimeDays: 6.67) - 2.835) < 0.2)
    }

    @Test("a configured point within ±0.1 d replaces a built-in one; others are added")
    func configuredPoints() throws {
        let topdir = try TestTopdir([
            "ssl-mgr.conf": appending(
                "ssl-mgr.conf",
                """
                [renew_info]
                target_90.05 = 20
                target_6 = 3.5
                rand_adj_90 = 2
                """.replacingOccurrences(of: "target_90.05", with: "'target_90.05'"))
        ])
        let result = topdir.load()
        let info = try #require(result.config?.renewInfo, "\(result.diagnostics)")
        #expect(info.targetPoints.count == RenewInfo.builtinTargets.count + 1)
        #expect(info.targetDays(lifetimeDays: 90.05) == 20)
        #expect(info.targetDays(lifetimeDays: 6) == 3.5)
        #expect(info.randomHalfWidthDays(lifetimeDays: 90) == 2)
    }

    @Test("renew_target_<X> (ssl-mgr's example spelling) is read as target_<X>, with a warning")
    func aliasSpelling() throws {
        let topdir = try TestTopdir(["ssl-mgr.conf": appending("ssl-mgr.conf", "[renew_info]\nrenew_target_90 = 28")])
        let result = topdir.load()
        #expect(result.config?.renewInfo.targetDays(lifetimeDays: 90) == 28)
        #expect(result.diagnostics.warnings.contains { $0.key == "renew_target_90" })
    }

    @Test("6.x renew_expire_days / _spread map onto target_90 / rand_adj_90 (ssl-mgr 7 dropped them)")
    func legacyGlobals() throws {
        let topdir = try TestTopdir([
            "ssl-mgr.conf": replacing(
                "ssl-mgr.conf", "[globals]", with: "[globals]\nrenew_expire_days = 20\nrenew_expire_days_spread = 4")
        ])
        let result = topdir.load()
        let info = try #require(result.config?.renewInfo)
        #expect(info.targetDays(lifetimeDays: 90) == 20)
        #expect(info.randomHalfWidthDays(lifetimeDays: 90) == 4)
        #expect(result.diagnostics.warnings.map(\.key) == ["renew_expire_days", "renew_expire_days_spread"])
    }

    @Test("[renew_info] wins over the deprecated keys")
    func renewInfoWins() throws {
        let topdir = try TestTopdir([
            "ssl-mgr.conf": replacing(
                "ssl-mgr.conf", "[globals]", with: "[renew_info]\ntarget_90 = 31\n[globals]\nrenew_expire_days = 20")
        ])
        let result = topdir.load()
        #expect(result.config?.renewInfo.targetDays(lifetimeDays: 90) == 31)
        #expect(result.diagnostics.warnings.first?.message.contains("overridden") == true)
    }
}
