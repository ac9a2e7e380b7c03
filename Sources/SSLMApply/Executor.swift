import SSLMCore

/// Executes plans: locked, journaled, idempotent. Implemented by the apply issue.
public enum Executor {}
