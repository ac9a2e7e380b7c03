/// The outcome of a successful propagation check.
public struct PropagationReport: Sendable, Hashable {
    /// The primary's SOA serial every server reached (or passed).
    public var primarySerial: UInt32
    /// Each checked server (`AuthoritativeServer.description`) → the serial it served when it passed.
    public var servers: [String: UInt32]
    /// Seconds from the start, initial delay included.
    public var elapsedSeconds: Double
    /// Polling rounds over all phases.
    public var rounds: Int

    public init(primarySerial: UInt32, servers: [String: UInt32], elapsedSeconds: Double, rounds: Int) {
        self.primarySerial = primarySerial
        self.servers = servers
        self.elapsedSeconds = elapsedSeconds
        self.rounds = rounds
    }
}
