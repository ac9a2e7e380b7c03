import SSLMConfig
import SSLMCore

/// Reads the on-disk state of a topdir (certs/, production, dh/) into an observation for the planner.
/// Implemented by the reconciler-core issue; this module may read but never writes.
public enum Observer {}
