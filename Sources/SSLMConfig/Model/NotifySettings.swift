/// `[notify]` of `ssl-mgr.conf`: mail to a person when something needs one (Docs/operations.md,
/// "Mail when something needs a person").
public struct NotifySettings: Sendable, Hashable {
    /// `email`: the recipients; none: no mail.
    public var email: [String] = []
    /// `sendmail`: the program that takes the message on stdin (argv; default `/usr/sbin/sendmail -t`).
    public var sendmail: [String] = Self.defaultSendmail
    /// `expiry_days`: a curr certificate this close to expiry without a next is reported (1 … 365).
    public var expiryDays: Int = 14

    public static let defaultSendmail = ["/usr/sbin/sendmail", "-t"]

    public init() {}
}
