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
        // Works on bytes, not Strings: observation parses tens of thousands of PEM files per plan.
        guard !bytes.contains(0), String(validating: bytes, as: UTF8.self) != nil else {
            throw SSLMError(.malformedInput, "\(file): not a PEM file (binary data)")
        }
        var blocks: [PEMBlock] = []
        var currentLabel: String?
        var body: [UInt8] = []
        var number = 0
        var lineStart = 0
        let count = bytes.count
        while lineStart <= count {
            var lineEnd = lineStart
            while lineEnd < count && bytes[lineEnd] != 0x0A && bytes[lineEnd] != 0x0D { lineEnd += 1 }
            defer {
                number += 1
                // \r\n counts as one line break, as in ssl-mgr's reading.
                if lineEnd < count && bytes[lineEnd] == 0x0D && lineEnd + 1 < count && bytes[lineEnd + 1] == 0x0A {
                    lineStart = lineEnd + 2
                } else {
                    lineStart = lineEnd + 1
                }
            }
            var from = lineStart
            var to = lineEnd
            while from < to && (bytes[from] == 0x20 || bytes[from] == 0x09) { from += 1 }
            while to > from && (bytes[to - 1] == 0x20 || bytes[to - 1] == 0x09) { to -= 1 }
            let line = bytes[from..<to]
            if line.first == UInt8(ascii: "#") { continue }
            if let label = Self.marker(line, kind: Self.beginPrefix) {
                if let open = currentLabel {
                    throw SSLMError(
                        .malformedInput,
                        "\(file): line \(number + 1): BEGIN \(label) inside an unterminated \(open) block (truncated PEM)"
                    )
                }
                currentLabel = label
                body.removeAll(keepingCapacity: true)
            } else if let label = Self.marker(line, kind: Self.endPrefix) {
                guard let open = currentLabel else {
                    throw SSLMError(.malformedInput, "\(file): line \(number + 1): END \(label) without BEGIN")
                }
                guard open == label else {
                    throw SSLMError(
                        .malformedInput, "\(file): line \(number + 1): END \(label) closes a \(open) block")
                }
                guard let der = Data(base64Encoded: Data(body)), !der.isEmpty else {
                    throw SSLMError(.malformedInput, "\(file): \(label) block: body is not valid base64")
                }
                blocks.append(PEMBlock(label: label, derBytes: Array(der)))
                currentLabel = nil
            } else if currentLabel != nil {
                if line.contains(UInt8(ascii: ":")) { continue }  // RFC 1421 headers (Proc-Type, DEK-Info)
                body.append(contentsOf: line)
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

    private static let beginPrefix = Array("-----BEGIN ".utf8)
    private static let endPrefix = Array("-----END ".utf8)
    private static let dashes = Array("-----".utf8)

    /// The label of a `-----BEGIN <label>-----` (or END) line, nil for any other line.
    private static func marker(_ line: ArraySlice<UInt8>, kind prefix: [UInt8]) -> String? {
        guard line.count >= prefix.count + dashes.count, line.starts(with: prefix),
            line.suffix(dashes.count).elementsEqual(dashes)
        else { return nil }
        let label = line.dropFirst(prefix.count).dropLast(dashes.count)
        return String(decoding: label, as: UTF8.self)
    }
}
