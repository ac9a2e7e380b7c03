import SSLMConfig

/// Timing of a propagation check. Polling starts at `initialPollSeconds` and doubles up to
/// `maxPollSeconds`; the whole check (after the initial delay) is bounded by `timeoutSeconds`.
public struct PropagationSettings: Sendable, Hashable {
    /// Sleep before the first query (`dns_check_delay`).
    public var initialDelaySeconds: Double
    /// Bound on the polling after the initial delay.
    public var timeoutSeconds: Double
    public var initialPollSeconds: Double
    public var maxPollSeconds: Double
    /// Per-query timeout (one attempt per poll; a lost answer is retried by the next poll).
    public var queryTimeoutSeconds: Double

    public init(
        initialDelaySeconds: Double = 0, timeoutSeconds: Double = 120, initialPollSeconds: Double = 0.05,
        maxPollSeconds: Double = 2, queryTimeoutSeconds: Double = 1
    ) {
        self.initialDelaySeconds = max(0, initialDelaySeconds)
        self.timeoutSeconds = max(0, timeoutSeconds)
        self.initialPollSeconds = max(0.001, initialPollSeconds)
        self.maxPollSeconds = max(self.initialPollSeconds, maxPollSeconds)
        self.queryTimeoutSeconds = max(0.01, queryTimeoutSeconds)
    }

    /// Defaults with `dns_check_delay` from `[globals]`.
    public init(globals: Globals) {
        self.init(initialDelaySeconds: Double(globals.dnsCheckDelaySeconds))
    }
}
