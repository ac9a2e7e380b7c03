import Foundation

/// Runs the built `sslm` executable as a real process (argv, no shell), for CLI tests, through
/// `ScriptRunner`. `SSL_MGR_TOPDIR` of the test runner's environment is never passed on.
public struct SSLMProcess {
    public struct Output: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String

        public init(status: Int32, stdout: String, stderr: String) {
            self.status = status
            self.stdout = stdout
            self.stderr = stderr
        }
    }

    /// The sslm under test: `$SSLM_TEST_EXECUTABLE` when it is set (`make test` sets the release build's, which
    /// is what ships and takes less than half the CPU of the debug build per run), else `sslm` in
    /// `buildDirectory`.
    public static var executable: String {
        if let chosen = ProcessInfo.processInfo.environment["SSLM_TEST_EXECUTABLE"], !chosen.isEmpty {
            return chosen
        }
        return buildDirectory + "/sslm"
    }

    /// The test bundle's build directory (`.build/<config>/`, where `swift build` puts `sslm` and
    /// `generate-manual`).
    public static var buildDirectory: String {
        let selfPath =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var directory = (selfPath as NSString).deletingLastPathComponent
        // On some layouts the test binary is inside an .xctest bundle directory.
        while !FileManager.default.isExecutableFile(atPath: directory + "/sslm"), directory.count > 1 {
            directory = (directory as NSString).deletingLastPathComponent
        }
        return directory
    }

    /// `executable`: another program (a symlink to sslm, `/usr/bin/time`, …) instead of `sslm`.
    public static func run(
        _ arguments: [String], environment: [String: String] = [:], stdin: Data? = nil,
        workingDirectory: String? = nil, executable: String? = nil
    ) throws -> Output {
        try start(
            arguments, environment: environment, stdin: stdin, workingDirectory: workingDirectory,
            executable: executable
        ).wait()
    }

    /// Starts the binary like `run` and returns at once (a second run can start while it works);
    /// `Running.wait()` gives its output.
    public static func start(
        _ arguments: [String], environment: [String: String] = [:], stdin: Data? = nil,
        workingDirectory: String? = nil, executable: String? = nil
    ) throws -> Running {
        Running(
            program: try ScriptRunner.start(
                [executable ?? Self.executable] + arguments, environment: environment, unsetting: ["SSL_MGR_TOPDIR"],
                stdin: stdin, workingDirectory: workingDirectory, searchPath: false))
    }

    /// A run started by `start`.
    public struct Running: Sendable {
        let program: ScriptRunner.RunningProgram

        /// Waits for the end.
        public func wait() -> Output {
            let outcome = program.wait()
            return Output(status: outcome.status, stdout: outcome.stdout, stderr: outcome.stderr)
        }
    }

    /// The repository root (for conf.d.example and golden files).
    public static var repositoryRoot: String { Repo.root.path }
}
