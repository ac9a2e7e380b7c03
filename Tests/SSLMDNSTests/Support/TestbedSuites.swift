import SSLMTestSupport
import Testing

/// Every suite that starts DNS test beds runs inside this one, one test at a time: test-bed starts and
/// refreshes block their thread, and on two cores parallel ones would starve the propagation checks' timers.
@Suite(.serialized, .enabled(if: TestTier.full, "starts nsd (and unbound): not in make check"))
enum TestbedSuites {}
