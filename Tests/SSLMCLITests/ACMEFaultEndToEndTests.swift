import Foundation
import SSLMTestSupport
import Testing

/// `sslm apply` against the real test bed when something fails on the way: the DNS primary stopped, a
/// secondary lagging, pebble lost during an order, sslm killed after opening its orders. A suite of its own
/// (the services and helpers are `ACMEEndToEndTests`'), so that `scripts/run-tests` can run it beside that one.
@Suite(.serialized, .enabled(if: TestTier.full, "starts pebble, nsd and nginx: not in make check"))
struct ACMEFaultEndToEndTests {
    @Test func stoppedPrimaryFailsClearlyAndTheNextRunSucceeds() throws {
        let testbed = try ACMETestbed()
        defer { testbed.stop() }
        let services = [ACMEEndToEndTests.services[1]]
        let topdir = try ACMEEndToEndTests.makeTopdir(testbed, services: services)
        try testbed.dnsControl("stop-primary")
        let failed = try ACMEEndToEndTests.apply(topdir)
        #expect(failed.status == 1)
        let primary = testbed.dns["DNS_PRIMARY"] ?? "?"
        #expect(
            (failed.stdout + failed.stderr).contains(primary),
            "the error names the primary: \(failed.stdout)\(failed.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "\(topdir)/certs/example.com/mail-rsa/curr"))
        #expect(!FileManager.default.fileExists(atPath: "\(topdir)/prod/example.com/mail-rsa"))
        try testbed.dnsControl("start-primary")
        let again = try ACMEEndToEndTests.apply(topdir)
        #expect(again.status == 0, "after the primary is back: \(again.stdout)\(again.stderr)")
        try ACMEEndToEndTests.expectVerifies(topdir, services[0], issuers: try testbed.issuerFiles())
    }

    @Test func laggingSecondaryTimesOutNamingIt() throws {
        let testbed = try ACMETestbed()
        defer { testbed.stop() }
        let services = [ACMEEndToEndTests.services[2]]
        let topdir = try ACMEEndToEndTests.makeTopdir(testbed, services: services)
        try testbed.dnsControl("hold-secondary")
        let started = Date()
        let failed = try SSLMProcess.run(["apply", "--topdir", topdir, "--dns-timeout", "3"])
        let waited = Date().timeIntervalSince(started)
        #expect(failed.status == 1)
        let secondary = testbed.dns["DNS_SECONDARY"] ?? "?"
        let output = failed.stdout + failed.stderr
        #expect(output.contains(secondary) && output.contains("serial"), "names the lagging server: \(output)")
        #expect(waited >= 3, "waited \(waited) s")
        #expect(!FileManager.default.fileExists(atPath: "\(topdir)/prod/example.com/wild"))
        try testbed.dnsControl("release-secondary")
        let again = try ACMEEndToEndTests.apply(topdir)
        #expect(again.status == 0, "after the secondary caught up: \(again.stdout)\(again.stderr)")
    }

    @Test func pebbleLostDuringAnOrderTheNextRunFinishes() throws {
        let testbed = try ACMETestbed()
        defer { testbed.stop() }
        let services = [ACMEEndToEndTests.services[0], ACMEEndToEndTests.services[2]]
        let topdir = try ACMEEndToEndTests.makeTopdir(testbed, services: services)
        // Kill sslm right after the orders were opened (their URLs are in the journal).
        #expect(try ACMEEndToEndTests.applyKilledAfterTheOrders(topdir).status != 0)
        // pebble dies: its orders and accounts are gone.
        try testbed.restartPebble()
        try testbed.writeCAInfo(topdir)
        let again = try ACMEEndToEndTests.apply(topdir)
        #expect(again.status == 0, "after pebble came back: \(again.stdout)\(again.stderr)")
        let issuers = try testbed.issuerFiles()
        for service in services { try ACMEEndToEndTests.expectVerifies(topdir, service, issuers: issuers) }
    }

    @Test func aCrashedRunResumesTheSameOrder() throws {
        let testbed = try ACMETestbed()
        defer { testbed.stop() }
        let services = [ACMEEndToEndTests.services[0]]
        let topdir = try ACMEEndToEndTests.makeTopdir(testbed, services: services)
        #expect(try ACMEEndToEndTests.applyKilledAfterTheOrders(topdir).status != 0)
        let again = try ACMEEndToEndTests.apply(topdir)
        #expect(again.status == 0, "resumed: \(again.stdout)\(again.stderr)")
        let journal = try String(contentsOfFile: topdir + "/.sslm/journal.jsonl", encoding: .utf8)
        let orders = journal.split(separator: "\n").filter {
            $0.contains("\"event\":\"ok\"") && $0.contains("next/order\"")
        }
        let urls = orders.compactMap { line -> String? in
            guard let range = line.range(of: "order https://") else { return nil }
            return line[range.upperBound...].split(separator: " ").first.map(String.init)
        }
        #expect(urls.count >= 1 && Set(urls).count == 1, "one order, resumed: \(urls)")
    }
}
