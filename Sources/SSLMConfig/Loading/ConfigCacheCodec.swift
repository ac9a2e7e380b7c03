import SSLMCore

/// The binary form of a parsed service file (`ConfigCache`). Every field is written; reading the same fields
/// back gives an equal value (`ConfigCacheTests`). Enumerations are written by their raw text, so an
/// unknown value reads as `ByteReader.Malformed` (the entry is ignored and the file parsed).
extension ByteWriter {
    mutating func parsedService(_ value: ParsedService) {
        serviceConfig(value.config)
        bool(value.hasCATable)
    }

    mutating func serviceConfig(_ value: ServiceConfig) {
        string(value.address.group)
        string(value.address.service)
        string(value.file)
        string(value.name)
        switch value.signer {
        case .selfSigned: optional(String?.none) { $0.string($1) }
        case .authority(let name): optional(name) { $0.string($1) }
        }
        unsigned(UInt64(value.dane.count))
        for spec in value.dane { daneSpec(spec) }
        optional(value.daneTTL) { $0.signed(Int64($1)) }
        keySpec(value.key)
        x509(value.subject)
        strings(value.sans)
        optional(value.signing) { writer, signing in
            writer.signed(Int64(signing.validityDays))
            writer.string(signing.digest.rawValue)
        }
        renewInfo(value.renewInfo)
        optional(value.checkEndpoints) { writer, endpoints in
            writer.unsigned(UInt64(endpoints.count))
            for endpoint in endpoints {
                writer.string(endpoint.host)
                writer.signed(Int64(endpoint.port))
                writer.optional(endpoint.startTLS) { $0.string($1) }
            }
        }
    }

    mutating func daneSpec(_ value: DANESpec) {
        signed(Int64(value.port))
        string(value.proto)
        signed(Int64(value.usage))
        signed(Int64(value.selector))
        signed(Int64(value.matchingType))
        optional(value.subtype) { $0.string($1.rawValue) }
    }

    mutating func keySpec(_ value: KeySpec) {
        switch value {
        case .ec(let curve):
            unsigned(0)
            string(curve.rawValue)
        case .rsa(let bits):
            unsigned(1)
            signed(Int64(bits))
        case .ed25519:
            unsigned(2)
        }
    }

    mutating func x509(_ value: X509Settings) {
        strings([
            value.commonName, value.organization, value.organizationalUnit, value.locality, value.state,
            value.country, value.email,
        ])
    }

    mutating func renewInfo(_ value: RenewInfo) {
        for points in [value.targetPoints, value.randomPoints] {
            unsigned(UInt64(points.count))
            for point in points {
                double(point.lifetimeDays)
                double(point.days)
            }
        }
    }
}

extension ByteReader {
    mutating func parsedService() throws -> ParsedService {
        ParsedService(config: try serviceConfig(), hasCATable: try bool())
    }

    mutating func serviceConfig() throws -> ServiceConfig {
        let address = ServiceAddress(group: try string(), service: try string())
        let file = try string()
        let name = try string()
        let signer = try optional { try $0.string() }.map(ServiceConfig.Signer.authority) ?? .selfSigned
        var dane: [DANESpec] = []
        for _ in 0..<(try count()) { dane.append(try daneSpec()) }
        let daneTTL = try optional { try $0.integer() }
        let key = try keySpec()
        let subject = try x509()
        let sans = try strings()
        let signing = try optional { reader in
            SigningSettings(validityDays: try reader.integer(), digest: try reader.enumeration(DigestAlgorithm.self))
        }
        let renewInfo = try renewInfo()
        var config = ServiceConfig(
            address: address, file: file, name: name, signer: signer, dane: dane, daneTTL: daneTTL, key: key,
            subject: subject, sans: sans, signing: signing, renewInfo: renewInfo)
        config.checkEndpoints = try optional { reader in
            var endpoints: [CheckEndpoint] = []
            for _ in 0..<(try reader.count()) {
                endpoints.append(
                    CheckEndpoint(
                        host: try reader.string(), port: try reader.integer(),
                        startTLS: try reader.optional { try $0.string() }))
            }
            return endpoints
        }
        return config
    }

    mutating func daneSpec() throws -> DANESpec {
        DANESpec(
            port: try integer(), proto: try string(), usage: try integer(), selector: try integer(),
            matchingType: try integer(), subtype: try optional { try $0.enumeration(DANESpec.HostSet.self) })
    }

    mutating func keySpec() throws -> KeySpec {
        switch try unsigned() {
        case 0: return .ec(try enumeration(ECCurve.self))
        case 1: return .rsa(bits: try integer())
        case 2: return .ed25519
        default: throw Malformed()
        }
    }

    mutating func x509() throws -> X509Settings {
        let fields = try strings()
        guard fields.count == 7 else { throw Malformed() }
        return X509Settings(
            commonName: fields[0], organization: fields[1], organizationalUnit: fields[2], locality: fields[3],
            state: fields[4], country: fields[5], email: fields[6])
    }

    mutating func renewInfo() throws -> RenewInfo {
        var lists: [[RenewInfo.Point]] = []
        for _ in 0..<2 {
            var points: [RenewInfo.Point] = []
            for _ in 0..<(try count()) { points.append(RenewInfo.Point(try double(), try double())) }
            lists.append(points)
        }
        return RenewInfo(targetPoints: lists[0], randomPoints: lists[1])
    }

    /// A signed integer that fits `Int`.
    mutating func integer() throws -> Int {
        guard let value = Int(exactly: try signed()) else { throw Malformed() }
        return value
    }

    /// A value of a `String`-backed enumeration, by its raw text.
    mutating func enumeration<T: RawRepresentable>(_ type: T.Type) throws -> T where T.RawValue == String {
        guard let value = T(rawValue: try string()) else { throw Malformed() }
        return value
    }
}
