import SSLMCore

/// RFC 8555 client (with ARI, profiles, EAB). Implemented by the ACME issue.
public enum ACMEClient {}
