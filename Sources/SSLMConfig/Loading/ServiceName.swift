/// Service names that collide with what sslm itself keeps beside the service directories.
///
/// A service `s` of group `g` lives in `certs/g/s/` and `<prod_cert_dir>/g/s/`. Beside them sslm writes
/// `tlsa.<g>` (DANE records) and hidden temporaries (`.name.tmp-…`, `.name.new-…`), and the observer skips
/// dot-entries and `tlsa.*` there; `acme-challenge.<apex>` is the dns-01 include file; `curr`, `next` and
/// `prev` name the slots inside a service directory, so as service names they make paths ambiguous.
/// A reserved name passed `config check` before and then failed every run.
enum ServiceName {
    static let reservedNames: Set<String> = ["curr", "next", "prev"]
    static let reservedPrefixes = ["tlsa.", "acme-challenge.", "."]

    /// Nil when `name` (already a safe file name) is not reserved; otherwise why it is.
    static func reservedProblem(_ name: String) -> String? {
        let lower = name.lowercased()
        if lower.hasPrefix(".") {
            return "service name \"\(SafeText.clip(name))\" starts with \".\": hidden names are sslm's temporary "
                + "files; rename the service"
        }
        if let prefix = reservedPrefixes.first(where: lower.hasPrefix) {
            return "service name \"\(SafeText.clip(name))\" is reserved: \(prefix)* names are sslm's own files "
                + "(certs/<group>/tlsa.<group>, acme-challenge.<apex>); rename the service"
        }
        if reservedNames.contains(lower) {
            return "service name \"\(SafeText.clip(name))\" is reserved: curr, next and prev are the certificate "
                + "slots inside a service directory; rename the service"
        }
        return nil
    }
}
