import Foundation
import SSLMCore
import Testing

/// `ConcurrentMap`, which `sslm check` probes its endpoints with: bounded, overlapping, in input order.
@Suite("ConcurrentMap: bounded concurrent map in input order")
struct ConcurrentMapTests {
    /// Counts items in flight and the most at once.
    private final class Gauge: @unchecked Sendable {
        private let lock = NSLock()
        private var current = 0
        private(set) var peak = 0
        var finished: [Int] = []

        func enter() {
            lock.withLock {
                current += 1; peak = max(peak, current)
            }
        }
        func leave(_ item: Int) {
            lock.withLock {
                current -= 1; finished.append(item)
            }
        }
        var maximum: Int { lock.withLock { peak } }
        var finishOrder: [Int] { lock.withLock { finished } }
    }

    @Test("results in input order although items finish in reverse; never more than the limit at once")
    func orderAndBound() async {
        for limit in [1, 3, 16] {
            let gauge = Gauge()
            let items = Array(0..<12)
            let results = await ConcurrentMap.map(items, limit: limit) { item -> String in
                gauge.enter()
                // Later items wait less: with room for all of them they finish in reverse order.
                try? await Task.sleep(for: .milliseconds(20 + 10 * (12 - item)))
                gauge.leave(item)
                return "item \(item)"
            }
            #expect(results == items.map { "item \($0)" })
            #expect(gauge.maximum <= limit, "limit \(limit): \(gauge.maximum) at once")
            if limit == 16 {
                #expect(gauge.maximum == 12, "every item in flight at once")
                #expect(gauge.finishOrder.first == 11, "the shortest wait finished first: \(gauge.finishOrder)")
            }
            if limit == 1 { #expect(gauge.finishOrder == items) }
        }
    }

    @Test("empty and single inputs; a limit below 1 counts as 1")
    func edges() async {
        let none = await ConcurrentMap.map([Int](), limit: 4) { $0 * 2 }
        #expect(none.isEmpty)
        let one = await ConcurrentMap.map([21], limit: 4) { $0 * 2 }
        #expect(one == [42])
        let zero = await ConcurrentMap.map([1, 2, 3], limit: 0) { $0 * 2 }
        #expect(zero == [2, 4, 6])
    }

    @Test("offPool: blocking bodies run on threads of their own, side by side")
    func offPool() async {
        let gauge = Gauge()
        let results = await ConcurrentMap.map(Array(0..<8), limit: 8) { item in
            await ConcurrentMap.offPool {
                gauge.enter()
                usleep(500_000)  // a blocking wait, as a libldns lookup
                gauge.leave(item)
                return item
            }
        }
        #expect(results == Array(0..<8))
        // Blocked together, whatever the number of cores (the cooperative pool has one thread per core).
        #expect(gauge.maximum == 8, "\(gauge.maximum) at once")
    }
}
