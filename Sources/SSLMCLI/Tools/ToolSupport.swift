import ArgumentParser
import Foundation
import SSLMCore

/// Helpers shared by the side-tool commands (`info`, `verify`, `tlsa-hash`, `dhparam`).
enum ToolSupport {
    /// "Now" for the tools: `SSLM_NOW` (RFC 3339) when set, else the clock.
    static func now() throws -> Date {
        guard let text = ProcessInfo.processInfo.environment["SSLM_NOW"], !text.isEmpty else { return Date() }
        guard let date = Timestamps.parseRFC3339(text) else {
            throw ToolFailure("SSLM_NOW: \"\(text)\" is not an RFC 3339 time such as 2027-01-15T12:00:00Z")
        }
        return date
    }

    static func errorLine(_ text: String) {
        let oneLine = text.split(whereSeparator: \.isNewline).joined(separator: " ")
        FileHandle.standardError.write(Data(("sslm: " + oneLine + "\n").utf8))
    }

    static func out(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }

    /// The message of an error, one line.
    static func message(_ error: any Error) -> String {
        if let error = error as? SSLMError { return error.message }
        return String(describing: error)
    }
}

/// An error already worded for the user; printed as one line on standard error, exit status 1.
struct ToolFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension ParsableCommand {
    /// Runs `body`; any error becomes one line on standard error and exit status 1.
    func reportingErrors(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let exit as ExitCode {
            throw exit
        } catch {
            ToolSupport.errorLine(ToolSupport.message(error))
            throw ExitCode(1)
        }
    }
}
