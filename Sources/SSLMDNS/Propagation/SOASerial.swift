/// SOA serial comparison in RFC 1982 serial number arithmetic (32 bits): a serial that wrapped past 2³² − 1
/// is still newer. Two serials exactly 2³¹ apart are incomparable and count as not newer.
public enum SOASerial {
    /// Whether `serial` is `reference` or newer.
    public static func isAtLeast(_ serial: UInt32, _ reference: UInt32) -> Bool {
        (serial &- reference) < 0x8000_0000
    }
}
