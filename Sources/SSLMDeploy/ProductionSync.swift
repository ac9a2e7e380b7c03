import SSLMCore

/// Production sync, remote copies (rsync over ssh), restarts. Implemented by the apply issue.
public enum ProductionSync {}
