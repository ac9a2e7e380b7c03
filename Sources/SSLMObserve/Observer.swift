import SSLMConfig
import SSLMCore

/// Reads the on-disk state of a topdir (certs/, production, TLSA files) into an observation for the
/// planner. Reads only; never writes.
public enum Observer {}
