import Foundation

/// base64url without padding (RFC 4648 §5), as JOSE and ACME use it.
enum Base64URL {
    static func encode<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func encode(_ string: String) -> String { encode(Array(string.utf8)) }

    /// Nil when `text` is not base64url (padding is tolerated).
    static func decode(_ text: String) -> [UInt8]? {
        var s = text.replacingOccurrences(of: "=", with: "")
        guard s.allSatisfy({ isAlphabet($0) }) else { return nil }
        s = s.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while s.count % 4 != 0 { s += "=" }
        return Data(base64Encoded: s).map { Array($0) }
    }

    static func isAlphabet(_ c: Character) -> Bool {
        guard c.isASCII, let v = c.asciiValue else { return false }
        return (v >= 0x41 && v <= 0x5A) || (v >= 0x61 && v <= 0x7A) || (v >= 0x30 && v <= 0x39) || v == 0x2D || v == 0x5F
    }
}
