import Foundation
import SSLMCore

/// Reads config files as text and parses TOML, turning every failure into a diagnostic.
struct ConfigFiles {
    let topdir: String
    let sink: DiagnosticSink
    /// (display path, content) of every file read, for the config digest.
    private(set) var read: [(String, Data)] = []

    init(topdir: String, sink: DiagnosticSink) {
        self.topdir = topdir
        self.sink = sink
    }

    func absolute(_ display: String) -> String { topdir + "/" + display }

    func exists(_ display: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: absolute(display), isDirectory: &isDirectory)
            && !isDirectory.boolValue
    }

    func isDirectory(_ display: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: absolute(display), isDirectory: &isDirectory)
            && isDirectory.boolValue
    }

    /// Loads and parses `display` (a path relative to the topdir). Nil (with an error) when unreadable,
    /// not UTF-8, or not TOML.
    mutating func document(_ display: String) -> [String: TOMLNode]? {
        accept(Self.load(absolute(display)), display: display)
    }

    /// A file read and parsed, before its outcome is recorded (so many can be read in parallel).
    struct Loaded: Sendable {
        var data: Data?
        var result: Result<[String: TOMLNode], LoadProblem>
        /// Control characters found in strings and key names (the document has them replaced).
        var controlCharacters: [TOMLNode.ControlCharacter] = []
    }

    /// Why a file gave no document.
    struct LoadProblem: Error, Sendable {
        let message: String
    }

    /// Reads and parses one file; no side effects.
    static func load(_ path: String) -> Loaded {
        switch read(path) {
        case .success(let data): parse(data)
        case .failure(let problem): Loaded(data: nil, result: .failure(problem))
        }
    }

    /// The bytes of one file, or why it cannot be read.
    static func read(_ path: String) -> Result<Data, LoadProblem> {
        do {
            return .success(Data(try BoundedFile.read(path, limit: .config)))
        } catch let error as SSLMError {
            // "<path>: cannot read (<why>)" → "cannot read the file: <why>"; a size error as it is.
            var message = error.message
            if error.code != .fileTooLarge, message.hasSuffix(")"), let open = message.lastIndex(of: "(") {
                message = "cannot read the file: " + message[message.index(after: open)...].dropLast()
            }
            return .failure(LoadProblem(message: message))
        } catch {
            return .failure(LoadProblem(message: "cannot read the file: \(reason(error))"))
        }
    }

    /// Parses the bytes of one file as UTF-8 TOML.
    static func parse(_ data: Data) -> Loaded {
        guard let text = String(data: data, encoding: .utf8) else {
            return Loaded(data: data, result: .failure(LoadProblem(message: "the file is not valid UTF-8 text")))
        }
        do {
            let (document, findings) = TOMLNode.sanitized(try TOMLNode.parse(text))
            return Loaded(data: data, result: .success(document), controlCharacters: findings)
        } catch {
            return Loaded(data: data, result: .failure(LoadProblem(message: error.description)))
        }
    }

    /// Records a loaded file (for the digest) and its problem (as a diagnostic).
    mutating func accept(_ loaded: Loaded, display: String) -> [String: TOMLNode]? {
        if let data = loaded.data { read.append((display, data)) }
        switch loaded.result {
        case .success(let document):
            for finding in loaded.controlCharacters {
                sink.error(
                    display, finding.tables.isEmpty ? nil : finding.tables.joined(separator: "."), finding.key,
                    finding.message)
            }
            return document
        case .failure(let problem):
            sink.error(display, nil, nil, problem.message)
            return nil
        }
    }

    /// sha256 over the paths and contents read, in path order.
    var digest: String {
        var hasher = Data()
        for (path, content) in read.sorted(by: { $0.0 < $1.0 }) {
            hasher.append(contentsOf: Array(path.utf8))
            hasher.append(0)
            hasher.append(contentsOf: Array(String(content.count).utf8))
            hasher.append(0)
            hasher.append(content)
        }
        return ContentDigest.labelled(hasher)
    }

    static func reason(_ error: any Error) -> String {
        let ns = error as NSError
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code)))
        }
        if ns.domain == NSCocoaErrorDomain {
            switch ns.code {
            case NSFileReadNoSuchFileError: return "no such file"
            case NSFileReadNoPermissionError: return "permission denied"
            default: break
            }
        }
        return ns.localizedDescription
    }
}
