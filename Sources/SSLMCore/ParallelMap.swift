import Foundation

/// `map` over all cores, in chunks, keeping the input order. For CPU-bound work on thousands of items
/// (observation, digests); `makeContext` builds one per-chunk helper (e.g. a JSONEncoder, which is not
/// thread-safe) so the transform does not share mutable state.
public enum ParallelMap {
    public static func map<Element: Sendable, Context, Result: Sendable>(
        _ elements: [Element], minimumChunk: Int = 64, makeContext: @Sendable () -> Context,
        _ transform: @Sendable (inout Context, Element) -> Result
    ) -> [Result] {
        let chunks = max(
            1, min(elements.count / max(1, minimumChunk), ProcessInfo.processInfo.activeProcessorCount * 4))
        if chunks == 1 {
            var context = makeContext()
            return elements.map { transform(&context, $0) }
        }
        let size = (elements.count + chunks - 1) / chunks
        let slots = Slots<Result>(count: elements.count)
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            var context = makeContext()
            let start = chunk * size
            let end = min(elements.count, start + size)
            guard start < end else { return }
            for index in start..<end { slots.set(index, transform(&context, elements[index])) }
        }
        return slots.values()
    }

    /// One slot per index, each written by exactly one iteration before `values()` is read.
    private final class Slots<Value>: @unchecked Sendable {
        private let pointer: UnsafeMutablePointer<Value?>
        private let count: Int

        init(count: Int) {
            self.count = count
            pointer = .allocate(capacity: count)
            pointer.initialize(repeating: nil, count: count)
        }

        func set(_ index: Int, _ value: Value) { pointer[index] = value }

        func values() -> [Value] { (0..<count).compactMap { pointer[$0] } }

        deinit {
            pointer.deinitialize(count: count)
            pointer.deallocate()
        }
    }
}
