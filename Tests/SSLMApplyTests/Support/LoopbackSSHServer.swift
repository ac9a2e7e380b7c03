import Foundation
import SSLMCore
import SSLMDeploy
import SSLMTestSupport

/// A real `sshd` on 127.0.0.1 that plays "another machine" for copies and restarts, with its own
/// throw-away host key, client key, known_hosts and client config (the file `[globals] ssh_config`
/// points to).
///
/// - Key-only, as the current user, on a free high port; `StrictModes no` (the keys live under /tmp);
///   nothing already running is used. Stop it with `stop()` (also done by `deinit`), or use
///   `LoopbackSSHServer.run { … }`, which stops it when the body returns or throws.
/// - The other machine's disk: the test key has a forced command (`remote-shell`) that relocates
///   rsync's destination under `remoteRoot`, so `rsync … <prod>/ testhost:<prod>/` lands in
///   `<remoteRoot><prod>/` — a different directory, so a test can tell whether the copy happened. Every
///   other command runs as sshd runs it (`sh -c`), with `SSLM_TEST_REMOTE_ROOT` set. Each session's
///   command is appended to `sessionLog`.
/// - Host aliases in the client config: `testhost` (this sshd) and `deadhost` (127.0.0.1 on a port
///   nothing listens on: connection refused).
///
/// Not a model of a hardened server; for tests only.
final class LoopbackSSHServer: @unchecked Sendable {
    static let hostAlias = "testhost"
    static let refusingAlias = "deadhost"

    let directory: String
    let clientConfig: String
    let remoteRoot: String
    let sessionLog: String
    private(set) var port: UInt16 = 0
    private let refusedPort: UInt16
    /// sshd's process id while it runs (0: not running). Spawned with posix_spawn, not Foundation's
    /// `Process`: see `spawn`.
    private var pid: pid_t = 0

    /// The programs the harness and sslm need, and whether each was found.
    static var missingPrograms: [String] {
        var missing: [String] = []
        if sshdPath == nil { missing.append("sshd") }
        for name in ["ssh", "ssh-keygen", "rsync"] where ProcessCommandRunner().resolve(name) == nil {
            missing.append(name)
        }
        return missing
    }

    static var available: Bool { missingPrograms.isEmpty }

    static var sshdPath: String? {
        (["/usr/sbin/sshd", "/usr/local/sbin/sshd"].first { access($0, X_OK) == 0 })
            ?? ProcessCommandRunner().resolve("sshd")
    }

    /// Starts a server, runs `body`, stops the server whatever happens.
    static func run<T>(_ body: (LoopbackSSHServer) async throws -> T) async throws -> T {
        let server = try LoopbackSSHServer()
        defer { server.stop() }
        return try await body(server)
    }

    init() throws {
        guard Self.available, let sshd = Self.sshdPath else {
            throw SSLMError(
                .unsupported,
                "missing \(Self.missingPrograms.joined(separator: ", ")): run scripts/install-deps test")
        }
        // /tmp, not a path with spaces: the client config path goes into rsync's -e.
        directory = "/tmp/sslm-sshd-\(UUID().uuidString)"
        clientConfig = directory + "/ssh_config"
        remoteRoot = directory + "/remote"
        sessionLog = directory + "/sessions.log"
        refusedPort = try Self.unusedPort()
        do {
            try FileManager.default.createDirectory(atPath: remoteRoot, withIntermediateDirectories: true)
            // sshd's privilege separation directory (absent on a machine where sshd never ran as a service).
            if getuid() == 0 {
                try FileManager.default.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true)
            }
            try generateKeys()
            try writeRemoteShell()
            var lastLog = ""
            for _ in 0..<5 {
                port = try Self.unusedPort()
                try writeConfigs()
                if try start(sshd: sshd) { return }
                lastLog = String(
                    decoding: FileManager.default.contents(atPath: directory + "/sshd.log") ?? Data(),
                    as: UTF8.self)
                guard lastLog.contains("Address already in use") else { break }
            }
            throw SSLMError(.ioFailure, "sshd on 127.0.0.1:\(port) did not start: \(lastLog)")
        } catch {
            stop()
            throw error
        }
    }

    deinit { stop() }

    /// Stops sshd (SIGTERM; SIGKILL after 5 seconds), reaps it and removes the directory. Safe to call twice.
    func stop() {
        if pid > 0 {
            Self.terminate(pid)
            pid = 0
        }
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// The commands sshd ran, one per session, in order (rsync's receiving side: `rsync --server …`).
    var sessions: [String] {
        String(decoding: FileManager.default.contents(atPath: sessionLog) ?? Data(), as: UTF8.self)
            .split(separator: "\n").map(String.init)
    }

    /// Points the refusing alias at this sshd: the "dead" host comes back.
    func reviveRefusingHost() throws {
        let text = try String(contentsOfFile: clientConfig, encoding: .utf8)
            .replacingOccurrences(of: "Port \(refusedPort)\n", with: "Port \(port)\n")
        try text.write(toFile: clientConfig, atomically: true, encoding: .utf8)
    }

    /// Writes a stand-in restart program at `path`. Each call appends one line to `log`:
    /// `<name> <args…> via=<ssh|local> cwd=<dir> certs=<n>` — whether it came over ssh (sshd sets
    /// SSH_CONNECTION), its working directory, and how many `cert.pem` the production directory
    /// `production` of the machine it runs on holds at that moment (the "remote" one under `remoteRoot`).
    static func writeRecorder(at path: String, log: String, production: String) throws {
        let script = """
            #!/bin/sh
            name=$(basename "$0")
            if [ -n "$SSH_CONNECTION" ]; then via=ssh; else via=local; fi
            certs=$(find "${SSLM_TEST_REMOTE_ROOT}\(production)" -name cert.pem 2>/dev/null | wc -l | tr -d ' ')
            echo "$name $* via=$via cwd=$(pwd) certs=$certs" >> '\(log)'

            """
        try Data(script.utf8).write(to: URL(fileURLWithPath: path))
        chmod(path, 0o755)
    }

    /// Every regular file under `root`: relative path → content digest and mode; nil when `root` is absent.
    static func tree(_ root: String) -> [String: String]? {
        guard let enumerator = FileManager.default.enumerator(atPath: root) else { return nil }
        var result: [String: String] = [:]
        for case let relative as String in enumerator {
            let full = root + "/" + relative
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory), !isDirectory.boolValue,
                let data = FileManager.default.contents(atPath: full)
            else { continue }
            let mode =
                ((try? FileManager.default.attributesOfItem(atPath: full)[.posixPermissions]) as? NSNumber)
                .map { String($0.intValue & 0o777, radix: 8) } ?? "?"
            result[relative] = ContentDigest.labelled(data) + " " + mode
        }
        return result
    }

    /// The current user's name and home directory (sshd starts sessions there).
    static var currentUser: (name: String, home: String) {
        guard let entry = getpwuid(getuid()) else { return ("root", "/root") }
        return (String(cString: entry.pointee.pw_name), String(cString: entry.pointee.pw_dir))
    }

    // MARK: - Setup

    private func generateKeys() throws {
        guard let keygen = ProcessCommandRunner().resolve("ssh-keygen") else { return }
        for (file, comment) in [("host_key", "sslm-test-host"), ("client_key", "sslm-test-client")] {
            let result = try runTool(
                keygen, ["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", directory + "/" + file])
            guard result.status == 0 else {
                throw SSLMError(.ioFailure, "ssh-keygen \(file) failed: \(result.output)")
            }
        }
    }

    /// The forced command of the test key: the "remote machine".
    private func writeRemoteShell() throws {
        let script = """
            #!/bin/sh
            # Forced command of the test key: this "machine" keeps its files under \(remoteRoot).
            set -f
            printf '%s\\n' "$SSH_ORIGINAL_COMMAND" >> '\(sessionLog)'
            case "$SSH_ORIGINAL_COMMAND" in
            "rsync --server "*)
                destination=${SSH_ORIGINAL_COMMAND##* }
                words=${SSH_ORIGINAL_COMMAND% *}
                exec $words '\(remoteRoot)'"$destination" ;;
            *)
                SSLM_TEST_REMOTE_ROOT='\(remoteRoot)'
                export SSLM_TEST_REMOTE_ROOT
                exec /bin/sh -c "$SSH_ORIGINAL_COMMAND" ;;
            esac

            """
        let path = directory + "/remote-shell"
        try Data(script.utf8).write(to: URL(fileURLWithPath: path))
        chmod(path, 0o755)
        let publicKey = try String(contentsOfFile: directory + "/client_key.pub", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        try "command=\"\(path)\",restrict \(publicKey)\n"
            .write(toFile: directory + "/authorized_keys", atomically: true, encoding: .utf8)
    }

    private func writeConfigs() throws {
        let user = Self.currentUser.name
        let sshd = """
            Port \(port)
            ListenAddress 127.0.0.1
            HostKey \(directory)/host_key
            PidFile none
            AuthorizedKeysFile \(directory)/authorized_keys
            AuthenticationMethods publickey
            PubkeyAuthentication yes
            PasswordAuthentication no
            KbdInteractiveAuthentication no
            PermitRootLogin prohibit-password
            AllowUsers \(user)
            StrictModes no
            UsePAM no
            PrintMotd no
            LogLevel VERBOSE

            """
        try sshd.write(toFile: directory + "/sshd_config", atomically: true, encoding: .utf8)
        let hostKey = try String(contentsOfFile: directory + "/host_key.pub", encoding: .utf8)
            .split(separator: " ").prefix(2).joined(separator: " ")
        try "[127.0.0.1]:\(port) \(hostKey)\n"
            .write(toFile: directory + "/known_hosts", atomically: true, encoding: .utf8)
        let client = """
            Host \(Self.hostAlias)
                HostName 127.0.0.1
                Port \(port)
            Host \(Self.refusingAlias)
                HostName 127.0.0.1
                Port \(refusedPort)
            Host *
                User \(user)
                IdentityFile \(directory)/client_key
                IdentitiesOnly yes
                IdentityAgent none
                UserKnownHostsFile \(directory)/known_hosts
                GlobalKnownHostsFile /dev/null
                StrictHostKeyChecking yes
                BatchMode yes
                ConnectTimeout 10
                LogLevel ERROR

            """
        try client.write(toFile: clientConfig, atomically: true, encoding: .utf8)
    }

    /// Starts sshd and waits until it accepts connections; false when it exited first (see sshd.log).
    private func start(sshd: String) throws -> Bool {
        // -D: stay in the foreground (our child, stopped by `stop`); -e: log to stderr (sshd.log).
        let pid = try Self.spawn(
            [sshd, "-D", "-e", "-f", directory + "/sshd_config"], log: directory + "/sshd.log")
        self.pid = pid
        for _ in 0..<200 {
            if Self.accepts(port: port) { return true }
            if !Self.isRunning(pid) { break }
            usleep(50_000)
        }
        if Self.isRunning(pid) {
            throw SSLMError(.ioFailure, "sshd did not listen on 127.0.0.1:\(port) within 10 seconds")
        }
        self.pid = 0
        return false
    }

    // MARK: - The sshd process

    /// A daemon without Foundation's `Process` (see `ScriptRunner.spawnDaemon`), output appended to `log`.
    private static func spawn(_ arguments: [String], log: String) throws -> pid_t {
        try ScriptRunner.spawnDaemon(arguments, log: log)
    }

    private static func isRunning(_ pid: pid_t) -> Bool { ScriptRunner.isRunning(pid) }
    private static func terminate(_ pid: pid_t) { ScriptRunner.stop(pid) }

    // MARK: - Sockets

    /// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, then closed).
    static func unusedPort() throws -> UInt16 {
        let socketFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socketFD >= 0 else { throw SSLMError(.ioFailure, "socket: errno \(errno)") }
        defer { close(socketFD) }
        var address = loopback(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socketFD, $0, length) }
        }
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socketFD, $0, &length) }
        }
        guard bound == 0, named == 0 else { throw SSLMError(.ioFailure, "bind 127.0.0.1:0: errno \(errno)") }
        return UInt16(bigEndian: address.sin_port)
    }

    /// Whether something accepts TCP connections on 127.0.0.1:`port`.
    static func accepts(port: UInt16) -> Bool {
        let socketFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socketFD >= 0 else { return false }
        defer { close(socketFD) }
        var address = loopback(port: port)
        return withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(socketFD, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        } == 0
    }

    private static func loopback(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        return address
    }
}
