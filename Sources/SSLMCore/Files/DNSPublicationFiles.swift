/// Where sslm remembers what it sent to a zone changed by `update = 'rfc2136'` or `'exec'`, under
/// `<topdir>/.sslm/dns/`: the state DNS itself cannot show without mixing sslm's records with others.
///
/// - `tlsa-sent.<apex>`: a copy of `certs/<apex>/tlsa.<apex>` whose records the zone has (written by
///   `publish_tlsa` after the UPDATE or the provider succeeded). The next publication sends the difference:
///   the new file's records not in it, and deletions (by value) of its records not in the new file.
/// - `challenges.<apex>.json`: the dns-01 TXT records `publish_challenges` added for the apex (zone, owner,
///   value), written before they are sent and removed once its `clear` deleted them; a file left by an
///   interrupted run is a leftover the next plan clears.
///
/// Only the executor writes these files; the observer reads them. Not for include-file zones, whose state
/// is the include files themselves.
public enum DNSPublicationFiles {
    /// `.sslm/dns`, relative to the topdir: the key of the sent copy among a TLSA file's copies
    /// (`GroupState.tlsaCopies`).
    public static let relativeDirectory = ".sslm/dns"

    public static func directory(topdir: String) -> String { topdir + "/" + relativeDirectory }

    public static func tlsaSentFile(topdir: String, apex: String) -> String {
        directory(topdir: topdir) + "/tlsa-sent." + apex
    }

    public static func challengesFile(topdir: String, apex: String) -> String {
        directory(topdir: topdir) + "/challenges." + apex + ".json"
    }
}
