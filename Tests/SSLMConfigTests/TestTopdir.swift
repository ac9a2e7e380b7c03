import Foundation
import SSLMConfig
import SSLMCore
import SSLMTestSupport

/// A throw-away topdir (`ScratchTopdir`) with a small, valid configuration that tests modify file by file.
final class TestTopdir: ScratchTopdir, @unchecked Sendable {
    /// The baseline: a root and an intermediate local CA, and example.com/mail with DANE on port 25.
    static let baseline: [String: String] = [
        "ssl-mgr.conf": ScratchTopdir.mainConf(groups: ["ca": ["root", "int"], "example.com": ["mail"]]),
        "ca-info.conf": ScratchTopdir.localCAInfo(),
        "ca/root": ScratchTopdir.rootCAConf(),
        "ca/int": ScratchTopdir.intermediateCAConf(),
        "example.com/mail": ScratchTopdir.mailConf(),
    ]
    /// The baseline's `ca-info.conf` (tests append CA sections to it).
    static let baselineCAInfo = ScratchTopdir.localCAInfo()

    /// Creates the topdir with `baseline` overridden by `files` (a nil value deletes that file).
    init(_ files: [String: String?] = [:], baseline: [String: String] = TestTopdir.baseline) throws {
        try super.init()
        var merged: [String: String?] = baseline.mapValues { $0 }
        for (name, content) in files { merged.updateValue(content, forKey: name) }
        try writeConf(merged)
    }

    func load(extraTargets: [ServiceAddress] = []) -> ConfigLoadResult {
        ConfigLoader.load(topdir: path, extraTargets: extraTargets)
    }
}

/// Replaces the first occurrence of `old` in `text` (tests use it to derive a bad file from the baseline).
func replacing(_ file: String, _ old: String, with new: String) -> String {
    guard let text = TestTopdir.baseline[file], let range = text.range(of: old) else {
        return "# replacing(\(file)): \(old) not found"
    }
    return text.replacingCharacters(in: range, with: new)
}

func appending(_ file: String, _ extra: String) -> String {
    (TestTopdir.baseline[file] ?? "") + "\n" + extra + "\n"
}
