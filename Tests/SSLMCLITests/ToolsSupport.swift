import Foundation
import SSLMTestSupport
import Testing

/// Runs the built `sslm` binary (next to the test bundle in `.build/<config>/`) with an argv, in a
/// working directory, with `SSLM_NOW` set, and compares the transcript with a golden file.
enum ToolsHarness {
    struct Transcript: Equatable {
        var stdout: String
        var stderr: String
        var status: Int32

        /// The golden form: stdout, then stderr and the exit status, each under a marker line.
        var text: String { stdout + "--- stderr ---\n" + stderr + "--- exit \(status) ---\n" }
    }

    static var testsDirectory: URL { URL(fileURLWithPath: #filePath).deletingLastPathComponent() }
    static var fixtures: String { testsDirectory.appendingPathComponent("Fixtures/Tools").path }
    static var goldenDirectory: URL { testsDirectory.appendingPathComponent("Golden") }
    static var recording: Bool { ProcessInfo.processInfo.environment["SSLM_RECORD_GOLDEN"] == "1" }

    /// `<dir of /proc/self/exe>/sslm` (on Linux the test runner is `.build/<config>/sslmPackageTests.xctest`).
    static var binary: String { SSLMProcess.executable }

    static func run(
        _ arguments: [String], in directory: String = fixtures, now: String? = "2027-02-01T00:00:00Z",
        stdin: [UInt8]? = nil
    ) throws -> Transcript {
        let outcome = try ScriptRunner.run(
            [binary] + arguments, environment: now.map { ["SSLM_NOW": $0] } ?? [:],
            unsetting: now == nil ? ["SSLM_NOW"] : [], stdin: stdin.map { Data($0) }, workingDirectory: directory,
            searchPath: false)
        return Transcript(stdout: outcome.stdout, stderr: outcome.stderr, status: outcome.status)
    }

    /// Compares with `Golden/<name>.txt`, or writes it when recording.
    static func expectGolden(
        _ transcript: Transcript, _ name: String, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let url = goldenDirectory.appendingPathComponent(name + ".txt")
        if recording {
            try FileManager.default.createDirectory(at: goldenDirectory, withIntermediateDirectories: true)
            try transcript.text.write(to: url, atomically: true, encoding: .utf8)
        }
        let expected = try String(contentsOf: url, encoding: .utf8)
        #expect(
            transcript.text == expected, "golden \(name).txt differs (re-record with SSLM_RECORD_GOLDEN=1)",
            sourceLocation: sourceLocation)
    }
}
