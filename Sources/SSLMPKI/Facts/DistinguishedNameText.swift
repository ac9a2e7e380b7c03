import SwiftASN1
import X509

/// RFC 4514 text of a distinguished name, as ssl-mgr prints it (`CN=…,O=…,C=…`: last RDN first), with
/// `emailAddress` spelled out. For display only; never parse it back.
public enum DistinguishedNameText {
    public static func rfc4514(_ name: DistinguishedName) -> String {
        name.reversed().map { rdn in
            rdn.map { attribute in "\(shortName(attribute.type))=\(attribute.value)" }.joined(separator: "+")
        }.joined(separator: ",")
    }

    /// Conventional short name of an attribute type, or its dotted OID.
    public static func shortName(_ type: ASN1ObjectIdentifier) -> String {
        switch type {
        case .RDNAttributeType.commonName: "CN"
        case .RDNAttributeType.countryName: "C"
        case .RDNAttributeType.localityName: "L"
        case .RDNAttributeType.stateOrProvinceName: "ST"
        case .RDNAttributeType.organizationName: "O"
        case .RDNAttributeType.organizationalUnitName: "OU"
        case .RDNAttributeType.streetAddress: "STREET"
        case .RDNAttributeType.domainComponent: "DC"
        case .RDNAttributeType.emailAddress: "emailAddress"
        default: type.description
        }
    }

    /// The value of the first attribute of `type` (e.g. the CN), if any.
    public static func first(_ type: ASN1ObjectIdentifier, in name: DistinguishedName) -> String? {
        for rdn in name {
            for attribute in rdn where attribute.type == type {
                return String(attribute.value) ?? String(describing: attribute.value)
            }
        }
        return nil
    }
}
