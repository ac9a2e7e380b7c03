import CLDNS
import SSLMCore

/// DNS queries pinned to explicit nameserver addresses and ports (never /etc/resolv.conf).
/// The only module that imports CLDNS (libldns).
public enum DNSResolver {
    /// The libldns version string, proving the system library links.
    public static var libraryVersion: String { String(cString: ldns_version()) }
}
