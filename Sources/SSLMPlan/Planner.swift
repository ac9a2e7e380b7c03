import SSLMConfig
import SSLMCore

/// The pure planner: (Config, Observation, now, options) → Plan. It never touches the file system,
/// the network, the clock or the environment. Implemented by the reconciler-core issue.
public enum Planner {}
