import Foundation
import SSLMTestSupport
import Testing

/// http-01 with the web server on another machine: the tokens go there over ssh (rsync to
/// `[web] server_dir/<apex>/.well-known/acme-challenge/` on each `[web] servers` host), the CA fetches them
/// from that machine's web server, and they are removed there afterwards. "Another machine" is a real sshd
/// on 127.0.0.1 whose rsync destinations land under its own root (`LoopbackSSHServer`); nginx serves that
/// root, pebble validates against it. Nothing is written under `server_dir` on this machine.
@Suite(
    .serialized, .enabled(if: TestTier.full, "starts sshd, pebble, nsd and nginx: not in make check"),
    .enabled(if: LoopbackSSHServer.available, "sshd, ssh, rsync are needed (scripts/install-deps test)"))
struct RemoteHTTP01Tests {
    @Test func tokensGoToTheRemoteWebServerAndAreRemovedThere() async throws {
        try await LoopbackSSHServer.run { server in
            let serverDir = "/srv/sslm-web-\(UUID().uuidString.prefix(8))"
            let testbed = try ACMETestbed(webroot: server.remoteRoot + serverDir)
            defer { testbed.stop() }
            let topdir = testbed.directory + "/topdir"
            try testbed.writeTopdir(
                topdir,
                services: [
                    .init(
                        apex: "example.com", name: "web", ca: "pebble-http",
                        sans: ["example.com", "www.example.com"], key: "ec")
                ],
                extraGlobals: "    ssh_config = '\(server.clientConfig)'", webServers: [LoopbackSSHServer.hostAlias],
                serverDir: serverDir)
            let run = try SSLMProcess.run(["apply", "--topdir", topdir, "--dns-timeout", "20"])
            #expect(run.status == 0, "apply: \(run.stdout)\(run.stderr)")
            #expect(FileManager.default.fileExists(atPath: topdir + "/certs/example.com/web/curr/cert.pem"))
            // Not on this machine: only on the web server.
            #expect(!FileManager.default.fileExists(atPath: serverDir))
            let sessions = server.sessions
            let tokenDirectory = serverDir + "/example.com/.well-known/acme-challenge/"
            #expect(sessions.contains { $0.hasPrefix("rsync --server") && $0.hasSuffix(tokenDirectory) }, "\(sessions)")
            #expect(sessions.contains { $0.hasPrefix("rm -f --") && $0.contains(tokenDirectory) }, "\(sessions)")
            // Tokens are base64url file names, two (one per name).
            let copied =
                (try? FileManager.default.contentsOfDirectory(atPath: server.remoteRoot + tokenDirectory)) ?? []
            #expect(
                copied.count == 2
                    && copied.allSatisfy { $0.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" } })
        }
    }
}
