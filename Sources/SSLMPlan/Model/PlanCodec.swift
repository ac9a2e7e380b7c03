import Foundation
import SSLMCore

/// The plan's JSON form: snake_case keys, sorted, pretty-printed, one trailing newline — byte-identical
/// for identical plans, so saved plans diff cleanly.
public enum PlanCodec {
    public static func encode(_ plan: Plan) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        var data = (try? encoder.encode(plan)) ?? Data("{}".utf8)
        data.append(UInt8(ascii: "\n"))
        return data
    }

    /// Decodes a saved plan; refuses a different major format version.
    public static func decode(_ data: Data, file: String) throws -> Plan {
        let decoder = JSONDecoder()
        let plan: Plan
        do {
            plan = try decoder.decode(Plan.self, from: data)
        } catch {
            throw SSLMError(.malformedInput, "\(file): not an sslm plan (\(describe(error)))")
        }
        let major = plan.formatVersion.split(separator: ".").first.map(String.init) ?? ""
        let supported = Plan.currentFormatVersion.split(separator: ".").first.map(String.init) ?? ""
        guard major == supported else {
            throw SSLMError(
                .unsupported,
                "\(file): plan format \(plan.formatVersion) is not supported (this sslm reads \(supported).x)")
        }
        return plan
    }

    private static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _): "missing \(key.stringValue)"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context),
            DecodingError.dataCorrupted(let context):
            context.codingPath.map(\.stringValue).joined(separator: ".") + ": " + context.debugDescription
        default: String(describing: error)
        }
    }
}
