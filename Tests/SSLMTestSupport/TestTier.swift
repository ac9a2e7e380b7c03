import Foundation

/// Which tier of the test suite runs (Tests/README.md): the whole suite (`make test`), or the fast tier
/// (`make check`, `SSLM_TEST_TIER=fast` in the environment of `swift test`) that leaves out every suite
/// starting a daemon (pebble, nsd, nginx, sshd, unbound, the ACME stand-in) and the crash matrix.
///
/// A suite outside the fast tier says so with `.enabled(if: TestTier.full, "…")`: under `make check` it is
/// reported as skipped, with its arguments never evaluated. Not a way to skip a failing test.
public enum TestTier {
    /// False under `make check`.
    public static var full: Bool { ProcessInfo.processInfo.environment["SSLM_TEST_TIER"] != "fast" }
}
