import SSLMCore
import SwiftASN1
import X509

/// The subject of a certificate request as configured in a service's `[X509]` table: the distinguished
/// name attributes and the subject alternative names.
///
/// Guarantees when turned into X.509 (`distinguishedName()`, `alternativeNames()`): only non-empty
/// attributes appear, in the conventional X.509 order C, ST, L, O, OU, CN, emailAddress (ssl-mgr
/// put CN first; the order only changes how the name is displayed); C is two letters; the CN is
/// the first SAN (added when absent) and every SAN is a valid DNS name, wildcard or IP literal.
/// It does not check that the names belong to the requester: that is the CA's job.
public struct SubjectFields: Sendable, Hashable {
    public var commonName: String
    public var organization: String
    public var organizationalUnit: String
    public var locality: String
    public var stateOrProvince: String
    public var country: String
    public var email: String
    /// `[X509] sans` as written (DNS names, `*.` wildcards, IPv4/IPv6 literals).
    public var subjectAlternativeNames: [String]

    public init(
        commonName: String, organization: String = "", organizationalUnit: String = "", locality: String = "",
        stateOrProvince: String = "", country: String = "", email: String = "", subjectAlternativeNames: [String] = []
    ) {
        self.commonName = commonName
        self.organization = organization
        self.organizationalUnit = organizationalUnit
        self.locality = locality
        self.stateOrProvince = stateOrProvince
        self.country = country
        self.email = email
        self.subjectAlternativeNames = subjectAlternativeNames
    }

    /// The subject DN with the non-empty attributes only. Throws `SSLMError(.invalidArgument)` for a
    /// country that is not two letters, a CN longer than 64 characters, or no attribute at all.
    public func distinguishedName() throws -> DistinguishedName {
        var rdns: [RelativeDistinguishedName] = []
        func add(_ type: ASN1ObjectIdentifier, _ value: String, printable: Bool = false, ia5: Bool = false) throws {
            guard !value.isEmpty else { return }
            let attribute: RelativeDistinguishedName.Attribute
            do {
                if printable {
                    attribute = try .init(type: type, printableString: value)
                } else if ia5 {
                    attribute = try .init(type: type, ia5String: value)
                } else {
                    attribute = .init(type: type, utf8String: value)
                }
            } catch {
                throw SSLMError(
                    .invalidArgument, "subject value \"\(SafeName.printable(value))\" has invalid characters")
            }
            rdns.append(RelativeDistinguishedName(attribute))
        }
        if commonName.count > 64 {
            throw SSLMError(.invalidArgument, "CN \"\(commonName)\" is longer than 64 characters (X.520 limit)")
        }
        if !country.isEmpty {
            guard country.count == 2, country.allSatisfy({ $0.isASCII && $0.isLetter }) else {
                throw SSLMError(
                    .invalidArgument, "C \"\(SafeName.printable(country))\" must be a two-letter country code")
            }
        }
        try add(.RDNAttributeType.countryName, country, printable: true)
        try add(.RDNAttributeType.stateOrProvinceName, stateOrProvince)
        try add(.RDNAttributeType.localityName, locality)
        try add(.RDNAttributeType.organizationName, organization)
        try add(.RDNAttributeType.organizationalUnitName, organizationalUnit)
        try add(.RDNAttributeType.commonName, commonName)
        try add(.RDNAttributeType.emailAddress, email, ia5: true)
        guard !rdns.isEmpty else { throw SSLMError(.invalidArgument, "the subject has no attribute (CN is empty)") }
        return DistinguishedName(rdns)
    }

    /// The SAN list: the CN first (unless it is not a host name or address, e.g. a CA's "My Root CA"), then
    /// `subjectAlternativeNames` in order, duplicates removed. Throws `SSLMError(.invalidArgument)` naming
    /// the first bad entry of `subjectAlternativeNames`.
    public func alternativeNames() throws -> [AlternativeName] {
        var texts: [String] = []
        if case .success = HostName.classify(commonName) { texts.append(commonName) }
        texts += subjectAlternativeNames
        var seen = Set<AlternativeName>()
        var names: [AlternativeName] = []
        for text in texts {
            let name = try AlternativeName(parsing: text)
            if seen.insert(name).inserted { names.append(name) }
        }
        return names
    }
}
