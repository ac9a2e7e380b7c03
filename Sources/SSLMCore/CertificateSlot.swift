/// A certificate slot that exists in production and in TLSA files: `curr` or `next` (`prev` is never
/// copied to production and never published). Also the slot a plan's `repair_set` repairs.
public enum CertificateSlot: String, Sendable, Hashable, Codable, CaseIterable {
    case curr
    case next
}
