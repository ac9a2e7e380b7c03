import Foundation

/// Runs the built `sslm` executable as a real process (argv, no shell), for CLI tests.
struct SSLMProcess {
    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// `sslm` beside the test bundle in `.build/<config>/`.
    static var executable: String {
        let selfPath = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments[0]
        var directory = (selfPath as NSString).deletingLastPathComponent
        // On some layouts the test binary is inside an .xctest bundle directory.
        while !FileManager.default.isExecutableFile(atPath: directory + "/sslm"), directory.count > 1 {
            directory = (directory as NSString).deletingLastPathComponent
        }
        return directory + "/sslm"
    }

    static func run(_ arguments: [String], environment: [String: String] = [:], stdin: Data? = nil,
                    workingDirectory: String? = nil, executable: String? = nil) throws -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable ?? Self.executable)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "SSL_MGR_TOPDIR")
        for (key, value) in environment { env[key] = value }
        process.environment = env
        if let workingDirectory { process.currentDirectoryURL = URL(fileURLWithPath: workingDirectory) }
        let out = Pipe()
        let err = Pipe()
        let input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(stdin) }
        try input.fileHandleForWriting.close()
        // Read both pipes concurrently so neither fills up and blocks the child.
        nonisolated(unsafe) var errData = Data()
        let reader = DetachedThread { errData = err.fileHandleForReading.readDataToEndOfFile() }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        reader.join()
        process.waitUntilExit()
        return Output(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData, as: UTF8.self))
    }

    /// The repository root (for conf.d.example and golden files).
    static var repositoryRoot: String {
        var path = #filePath
        for _ in 0..<3 { path = (path as NSString).deletingLastPathComponent }
        return path
    }
}

/// A scratch topdir holding conf.d.example, changed so that it needs no DNS server (the mail services'
/// DANE entries move from port 25, whose owners are MX hosts looked up in DNS, to 465, whose owners are the
/// SANs) and, with `ecKeys`, generates fast (mail-rsa's RSA-4096 key becomes EC). The caller removes it.
enum ExampleTopdir {
    /// `keepPort25`: leave the DANE entries on port 25 (MX owners; the test then provides DNS).
    static func make(_ prefix: String, ecKeys: Bool = true, keepPort25: Bool = false) throws -> String {
        let topdir = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: topdir, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: SSLMProcess.repositoryRoot + "/conf.d.example", toPath: topdir + "/conf.d")
        for service in ["mail-ec", "mail-rsa"] {
            let file = topdir + "/conf.d/example.com/\(service)"
            var text = try String(contentsOfFile: file, encoding: .utf8)
            if !keepPort25 {
                text = text.replacingOccurrences(of: "dane_tls = [[25, 'tcp', 3, 1, 1]]", with: "dane_tls = [[465, 'tcp', 3, 1, 1]]")
            }
            if ecKeys { text = text.replacingOccurrences(of: "ktype = 'rsa'", with: "ktype = 'ec'") }
            try text.write(toFile: file, atomically: true, encoding: .utf8)
        }
        return topdir
    }
}

/// Runs a closure on a thread of its own, and waits for it. Not GCD's global queue: tests block in
/// synchronous waits while other tests run in parallel, and a block queued behind them on the few GCD
/// worker threads of a 2-core machine may never start (a deadlock seen with concurrent CLI tests).
final class DetachedThread: @unchecked Sendable {
    private let finished = DispatchSemaphore(value: 0)

    init(_ work: @escaping @Sendable () -> Void) {
        let finished = self.finished
        let thread = Thread {
            work()
            finished.signal()
        }
        thread.start()
    }

    /// Waits until the closure has returned.
    func join() { finished.wait() }
}
