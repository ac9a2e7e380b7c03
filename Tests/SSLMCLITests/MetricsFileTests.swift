import Foundation
import SSLMTestSupport
import Testing

/// `--metrics-file`: a Prometheus textfile for node_exporter.
@Suite("Prometheus textfile", .enabled(if: TestTier.full, "runs sslm apply on the example: not in make check"))
struct MetricsFileTests {
    @Test("apply --metrics-file writes expiry, renewal, last success and failures; status --metrics-file too")
    func metrics() throws {
        let topdir = try ExampleTopdir.make("sslm-metrics")
        defer { try? FileManager.default.removeItem(atPath: topdir) }
        let metrics = topdir + "/sslm.prom"
        let apply = try SSLMProcess.run(["apply", "--metrics-file", metrics, "--topdir", topdir])
        #expect(apply.status == 0, "\(apply.stdout)\(apply.stderr)")
        let text = try String(contentsOfFile: metrics, encoding: .utf8)
        let samples = text.split(separator: "\n").filter { !$0.hasPrefix("#") }
        let expiry = samples.filter { $0.hasPrefix("sslm_certificate_expiry_timestamp_seconds{") }
        #expect(expiry.count == 6, "\(text)")
        #expect(
            expiry.contains {
                $0.hasPrefix("sslm_certificate_expiry_timestamp_seconds{service=\"example.com/web-ec\",slot=\"curr\"} ")
            })
        // Values are Unix times: a 90-day leaf expires about 90 days from now.
        let web = expiry.first { $0.contains("example.com/web-ec") }
        let value = web.flatMap { Double($0.split(separator: " ").last ?? "") } ?? 0
        #expect(abs(value - Date().addingTimeInterval(90 * 86_400).timeIntervalSince1970) < 3_600)
        #expect(samples.filter { $0.hasPrefix("sslm_certificate_renewal_timestamp_seconds{") }.count == 6)
        #expect(samples.contains { $0.hasPrefix("sslm_last_apply_success_timestamp_seconds ") })
        #expect(samples.contains { $0 == "sslm_apply_failed_actions{service=\"example.com/web-ec\"} 0" })
        #expect(samples.allSatisfy { $0.hasPrefix("sslm_certificate_missing") ? $0.hasSuffix(" 0") : true })
        #expect(!text.contains("PRIVATE KEY"))

        let statusMetrics = topdir + "/status.prom"
        let status = try SSLMProcess.run(["status", "--metrics-file", statusMetrics, "--topdir", topdir])
        #expect(status.status == 0)
        let statusText = try String(contentsOfFile: statusMetrics, encoding: .utf8)
        #expect(statusText.contains("sslm_last_apply_success_timestamp_seconds "))
        #expect(!statusText.contains("sslm_apply_failed_actions"))
    }
}
