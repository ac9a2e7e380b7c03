import Foundation
import SSLMCore

/// One `-----BEGIN <LABEL>-----` … `-----END <LABEL>-----` block of a PEM file, decoded.
///
/// Parsing is strict about structure (every BEGIN needs its matching END, the body must be base64) and
/// tolerant about surroundings (text outside blocks and lines starting with `#` are ignored), which is
/// what `sslm info` and the chain readers need. It does not interpret the DER: that is up to the caller.
public struct PEMBlock: Sendable, Hashable {
    /// The label between `BEGIN ` and the dashes, e.g. `CERTIFICATE`, `PRIVATE KEY`.
    public let label: String
    /// The decoded body.
    public let derBytes: [UInt8]

    public init(label: String, derBytes: [UInt8]) {
        self.label = label
        self.derBytes = derBytes
    }

    /// The block re-encoded in canonical form (64-column base64, final newline).
    public var pemText: String {
        let base64 = Data(derBytes).base64EncodedString()
        var lines: [String] = ["-----BEGIN \(label)-----"]
        var index = base64.startIndex
        while index < base64.endIndex {
            let end = base64.index(index, offsetBy: 64, limitedBy: base64.endIndex) ?? base64.endIndex
            lines.append(String(base64[index..<end]))
            index = end
        }
        lines.append("-----END \(label)-----")
        return lines.joined(separator: "\n") + "\n"
    }

    /// Every block of `bytes`, in order. `file` is only used in error messages.
    ///
    /// Throws `SSLMError(.malformedInput)` for binary data, a block without END, mismatched labels,
    /// bad base64, or input without any block.
    public static func parseAll(_ bytes: [UInt8], file: String) throws -> [PEMBlock] {
        guard let text = String(validating: bytes, as: UTF8.self), !bytes.contains(0) else {
            throw SSLMError(.malformedInput, "\(file): not a PEM file (binary data)")
        }
        var blocks: [PEMBlock] = []
        var currentLabel: String?
        var body = ""
        for (number, rawLine) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
            .enumerated()
        {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("#") { continue }
            if let label = Self.marker(line, kind: "BEGIN") {
                if let open = currentLabel {
                    throw SSLMError(
                        .malformedInput,
                        "\(file): line \(number + 1): BEGIN \(label) inside an unterminated \(open) block (truncated PEM)"
                    )
                }
                currentLabel = label
                body = ""
            } else if let label = Self.marker(line, kind: "END") {
                guard let open = currentLabel else {
                    throw SSLMError(.malformedInput, "\(file): line \(number + 1): END \(label) without BEGIN")
                }
                guard open == label else {
                    throw SSLMError(
                        .malformedInput, "\(file): line \(number + 1): END \(label) closes a \(open) block")
                }
                guard let der = Data(base64Encoded: body), !der.isEmpty else {
                    throw SSLMError(.malformedInput, "\(file): \(label) block: body is not valid base64")
                }
                blocks.append(PEMBlock(label: label, derBytes: Array(der)))
                currentLabel = nil
            } else if currentLabel != nil {
                if line.contains(":") { continue }  // RFC 1421 headers (Proc-Type, DEK-Info)
                body += line
            }
        }
        if let open = currentLabel {
            throw SSLMError(.malformedInput, "\(file): \(open) block has no END line (truncated PEM)")
        }
        guard !blocks.isEmpty else {
            throw SSLMError(.malformedInput, "\(file): no PEM block found")
        }
        return blocks
    }

    private static func marker(_ line: String, kind: String) -> String? {
        let prefix = "-----\(kind) "
        guard line.hasPrefix(prefix), line.hasSuffix("-----"), line.count >= prefix.count + 5 else { return nil }
        let start = line.index(line.startIndex, offsetBy: prefix.count)
        let end = line.index(line.endIndex, offsetBy: -5)
        guard start <= end else { return nil }
        return String(line[start..<end])
    }
}
