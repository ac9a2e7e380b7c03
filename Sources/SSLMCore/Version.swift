/// sslm's version, printed by `sslm --version` and written into plans as `tool_version`.
public enum SSLMVersion {
    public static let current = "0.1.0"
}
