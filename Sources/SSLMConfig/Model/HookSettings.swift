/// `[hooks]` of `ssl-mgr.conf`: programs run once per `sslm apply`, after the run, with what happened on
/// standard input (Docs/hooks.md).
public struct HookSettings: Sendable, Hashable {
    /// `deploy_cmd`: run after a run that changed production (after the restarts). Absolute argv.
    public var deployCommand: [String]?
    /// `failure_cmd`: run after a run with failed or blocked services. Absolute argv.
    public var failureCommand: [String]?
    /// `timeout`: seconds each hook may run (1 … 86 400; default 300).
    public var timeoutSeconds: Int = Self.defaultTimeoutSeconds

    public static let defaultTimeoutSeconds = 300

    public init(deployCommand: [String]? = nil, failureCommand: [String]? = nil) {
        self.deployCommand = deployCommand
        self.failureCommand = failureCommand
    }
}
