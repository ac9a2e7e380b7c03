import Foundation

/// `map` over I/O-bound asynchronous work, at most `limit` items at a time, results in input order.
///
/// For waiting work (TLS handshakes, DNS lookups, child processes): the whole map takes about as long
/// as its slowest item when there are no more items than `limit`. `ParallelMap` is the other one: CPU-bound,
/// synchronous, chunked over the cores; it would hold a core per waiting item and is not for this.
public enum ConcurrentMap {
    /// `transform` of every element, at most `limit` (at least 1) running at once; started in input order,
    /// returned in input order whatever order they finish in.
    public static func map<Element: Sendable, Result: Sendable>(
        _ elements: [Element], limit: Int, _ transform: @escaping @Sendable (Element) async -> Result
    ) async -> [Result] {
        guard elements.count > 1 else {
            var results: [Result] = []
            for element in elements { results.append(await transform(element)) }
            return results
        }
        let width = max(1, min(limit, elements.count))
        return await withTaskGroup(of: (Int, Result).self) { group in
            var slots = [Result?](repeating: nil, count: elements.count)
            var next = 0
            func start() {
                let index = next
                let element = elements[index]
                group.addTask { (index, await transform(element)) }
                next += 1
            }
            while next < width { start() }
            while let (index, value) = await group.next() {
                slots[index] = value
                if next < elements.count { start() }
            }
            return slots.compactMap { $0 }
        }
    }

    /// Runs a blocking body (a libldns lookup, a `read`) on a thread of its own, off the cooperative
    /// pool, so that blocked bodies neither wait for one another nor starve the pool's few threads.
    public static func offPool<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { (continuation: CheckedContinuation<T, Never>) in
            let thread = Thread { continuation.resume(returning: body()) }
            thread.stackSize = 1 << 20
            thread.start()
        }
    }
}
