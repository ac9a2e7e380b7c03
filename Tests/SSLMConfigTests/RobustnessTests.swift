import Foundation
import SSLMConfig
import SSLMCore
import SSLMTestSupport
import Testing

/// No input may make the loader crash or trap: truncated files, garbage bytes, wrong shapes.
@Suite("The loader never traps")
struct RobustnessTests {
    @Test("every file of the baseline truncated at many points", arguments: TestTopdir.baseline.keys.sorted())
    func truncated(file: String) throws {
        let text = try #require(TestTopdir.baseline[file])
        let bytes = Array(text.utf8)
        var sawError = false
        for cut in stride(from: 0, to: bytes.count, by: max(1, bytes.count / 40)) {
            let topdir = try TestTopdir([file: String(decoding: bytes[..<cut], as: UTF8.self)])
            let result = topdir.load()
            // Either it loads, or it explains why; both are fine — trapping is not.
            #expect(result.config != nil || result.diagnostics.hasErrors)
            if result.diagnostics.hasErrors { sawError = true }
        }
        #expect(sawError, "truncating \(file) must break it at some point")
    }

    @Test("random bytes in every file")
    func garbage() throws {
        var generator = SplitMix64(seed: 0x5eed)
        for file in TestTopdir.baseline.keys.sorted() {
            for length in [1, 17, 300, 4096] {
                let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
                let topdir = try TestTopdir([:])
                try Data(bytes).write(to: URL(fileURLWithPath: topdir.path + "/conf.d/" + file))
                let result = topdir.load()
                #expect(result.config == nil)
                #expect(result.diagnostics.errors.contains { $0.file == "conf.d/" + file })
            }
        }
    }

    @Test(
        "valid TOML of the wrong shape",
        arguments: [
            "groups = 5", "groups = []", "groups = ['a']", "[groups]\ndomain='x'", "globals = [1, 2]",
            "[[groups]]\ndomain = 5\nservices = 5", "[[groups]]\ndomain = 'ca'\nservices = [[1]]",
            "dns_primary = 'x'\n[[groups]]\ndomain='ca'\nservices=['root']",
            "[dns]\nrestart_cmd = [1]\n[[groups]]\ndomain='ca'\nservices=['root']",
            "[[groups]]\ndomain='ca'\nservices=['root']\n[smtp]\nsvc_depends = [[1, 2, 3]]",
            "[[groups]]\ndomain='ca'\nservices=['root']\n[renew_info]\ntarget_90 = 'x'\n'target_-1' = 2\n'target_inf' = 2",
            "[[groups]]\ndomain='ca'\nservices=['root']\n[globals]\npost_copy_cmd = 'x'\ndns_xtra_ns = [[]]",
            "[[groups]]\ndomain='ca'\nservices=['root']\n[[dns_nameservers]]\ndomain='default'\nservers=[]",
            "[[groups]]\ndomain='ca'\nservices=['root']\n[[dns_primary]]\ndomain='default'\nserver='[::1'",
        ])
    func wrongShapes(text: String) throws {
        let topdir = try TestTopdir(["ssl-mgr.conf": text])
        let result = topdir.load()
        #expect(result.diagnostics.errors.contains { $0.file == "conf.d/ssl-mgr.conf" }, "\(result.diagnostics)")
    }

    @Test(
        "service files of the wrong shape",
        arguments: [
            "name = 1\ngroup = 2\nservice = 3\nKeyOpts = 4\nX509 = 5",
            "dane_tls = 'yes'", "dane_tls = [[]]", "dane_tls = [[25, 'tcp', 3, 1, 1, 'MX', 7]]", "dane_tls = [1, 2]",
            "[KeyOpts]\nktype = ['ec']\n[X509]\nsans = 'a'",
            "[X509]\nCN = ''\nO = ' '\nC = 'U\\u0000'",
            "[CA]\nsign_end_days = 1e400",
        ])
    func wrongServiceShapes(text: String) throws {
        let topdir = try TestTopdir(["example.com/mail": text])
        let result = topdir.load()
        #expect(result.config == nil)
        #expect(result.diagnostics.errors.contains { $0.file == "conf.d/example.com/mail" }, "\(result.diagnostics)")
    }
}
