@testable import SSLMCLI
import Testing

@Suite("ProcessLifetime")
struct ProcessLifetimeTests {
    final class Tracked: @unchecked Sendable {
        var payload = [Int](repeating: 7, count: 16)
    }

    @Test("keeps a value alive after every other reference is gone")
    func keepsAlive() {
        weak var weakReference: Tracked?
        let before = ProcessLifetime.count
        do {
            let value = Tracked()
            weakReference = value
            ProcessLifetime.keepUntilExit(value)
        }
        #expect(weakReference != nil)
        #expect(weakReference?.payload.count == 16)
        #expect(ProcessLifetime.count >= before + 1)
    }

    @Test("a value not handed to it is freed as usual")
    func othersAreFreed() {
        weak var weakReference: Tracked?
        do {
            let value = Tracked()
            weakReference = value
            #expect(weakReference != nil)
        }
        #expect(weakReference == nil)
    }
}
