import Foundation
import SSLMConfig
import SSLMCore
import SSLMPKI
import X509

/// Builds `certs/<apex>/tlsa.<apex>` for the current disk state (spec §3.10): for each service of the apex
/// with a non-empty `dane_tls` (sorted by service name), the records of its `curr` certificate and then
/// of its `next` certificate, in sections `;; <service> curr` / `;; <service> next`.
///
/// Owners: the apex, plus the apex's MX hosts (`DANESpec.HostSet.mx`) or the certificate's own SANs
/// (`.sans`; wildcard and IP SANs are skipped with a warning). When the MX lookup failed (or was not
/// made), the MX owners are **not** dropped: those already published in the existing file for that
/// service and port/proto are kept, and `note` says so.
///
/// The observer (to compute `GroupState.tlsaExpected`) and the executor (to write the file) both call
/// this, so the expectation and the written file cannot diverge. Pure apart from the disk variant's
/// reading of `cert.pem`; never writes.
public enum TLSAFileBuilder {
    /// The built file.
    public struct Output: Sendable, Hashable {
        /// The file content; nil when no DANE service has a certificate (no rows): leave any file untouched.
        public var content: String?
        /// Set when DNS facts were unavailable for MX owners, saying what was kept instead.
        public var note: String?
        /// Skipped owners (wildcard/IP SANs), unreadable certificates, bad TLSA parameters.
        public var warnings: [Diagnostic]
        /// The records of each service's curr and next, as written in `content` (for the roll timing).
        public var slotRecords: [DANESlotRecords]

        public init(content: String?, note: String?, warnings: [Diagnostic], slotRecords: [DANESlotRecords] = []) {
            self.content = content
            self.note = note
            self.warnings = warnings
            self.slotRecords = slotRecords
        }

        /// `normalisedDigest(of: content)`, nil without content.
        public var normalisedDigest: String? { content.map(TLSAFileBuilder.normalisedDigest(of:)) }
    }

    /// The services of `apex` with a non-empty `dane_tls`, sorted by service name.
    public static func daneServices(apex: String, config: Config) -> [ServiceConfig] {
        config.services.values.filter { $0.address.group == apex && !$0.dane.isEmpty }
            .sorted { $0.address.service < $1.address.service }
    }

    /// True when some service of `apex` has DANE entries whose owners come from MX records.
    public static func needsMXHosts(apex: String, config: Config) -> Bool {
        daneServices(apex: apex, config: config).contains { $0.dane.contains { $0.hostSet == .mx } }
    }

    /// Builds the file from the certificates on disk, `certs/<g>/<s>/{curr,next}/cert.pem` (the first
    /// certificate of each), and the existing `certs/<apex>/tlsa.<apex>` text (nil when absent).
    public static func build(apex: String, config: Config, dns: DNSFacts?, existingFile: String?, rolling: Bool)
        -> Output
    {
        build(
            apex: apex, config: config, dns: dns, existingFile: existingFile, rolling: rolling,
            certificate: { address, slot in try diskCertificate(topdir: config.topdir, address: address, slot: slot) },
            issuer: { address, slot in try diskIssuer(topdir: config.topdir, address: address, slot: slot) })
    }

    /// The first certificate of `certs/<g>/<s>/<slot>/chain.pem` (the issuing CA, for usage 0 and 2 records).
    public static func diskIssuer(topdir: String, address: ServiceAddress, slot: CertificateSlot) throws -> Certificate?
    {
        let path = CertsLayout.serviceDirectory(topdir: topdir, address: address) + "/\(slot.rawValue)/chain.pem"
        guard PosixFiles.kind(path) != .missing else { return nil }
        return try CertificatePEM.read(path: path).first
    }

    /// The first certificate of `certs/<g>/<s>/<slot>/cert.pem`; nil when the file does not exist.
    public static func diskCertificate(topdir: String, address: ServiceAddress, slot: CertificateSlot) throws
        -> Certificate?
    {
        let path = CertsLayout.certificateFile(topdir: topdir, address: address, slot: slot)
        guard PosixFiles.kind(path) != .missing else { return nil }
        guard let first = try CertificatePEM.read(path: path).first else {
            throw SSLMError(.malformedInput, "\(path): no certificate")
        }
        return first
    }

    /// Builds the file from certificates the caller supplies: `certificate(address, slot)` returns nil
    /// when the slot has no certificate and throws when its certificate is unreadable (a warning).
    public static func build(
        apex: String, config: Config, dns: DNSFacts?, existingFile: String?, rolling: Bool,
        certificate: (ServiceAddress, CertificateSlot) throws -> Certificate?,
        issuer: (ServiceAddress, CertificateSlot) throws -> Certificate? = { _, _ in nil }
    ) -> Output {
        build(
            apex: apex, services: daneServices(apex: apex, config: config), dns: dns, existingFile: existingFile,
            rolling: rolling, certificate: certificate, issuer: issuer)
    }

    /// The core: `services` are the apex's DANE services, sorted by name.
    static func build(
        apex: String, services: [ServiceConfig], dns: DNSFacts?, existingFile: String?, rolling: Bool,
        certificate: (ServiceAddress, CertificateSlot) throws -> Certificate?,
        issuer: (ServiceAddress, CertificateSlot) throws -> Certificate? = { _, _ in nil }
    ) -> Output {
        var sections: [TLSADomainFile.Section] = []
        var slotRecords: [DANESlotRecords] = []
        var warnings: [Diagnostic] = []
        var seenWarnings = Set<Diagnostic>()
        func warn(_ diagnostic: Diagnostic) {
            if seenWarnings.insert(diagnostic).inserted { warnings.append(diagnostic) }
        }
        let mxFromDNS = dns?.mxHosts
        let published = existingFile.map(PublishedOwners.init(text:))
        var keptOwners = Set<String>()
        var needsFallback = false

        for service in services {
            for slot in CertificateSlot.allCases {
                let cert: Certificate
                do {
                    guard let found = try certificate(service.address, slot) else { continue }
                    cert = found
                } catch {
                    warn(
                        .warning(
                            file: "certs/\(service.address)/\(slot.rawValue)/cert.pem",
                            "cannot read the certificate for TLSA records: \(oneLine(error))"))
                    continue
                }
                let sans = certificateSANs(cert)
                var records: [TLSARecord] = []
                for spec in service.dane {
                    var mxHosts: [String] = []
                    if spec.hostSet == .mx {
                        if let mxFromDNS {
                            mxHosts = mxFromDNS
                        } else {
                            needsFallback = true
                            mxHosts = published?.hosts(service: service.address.service, spec: spec, apex: apex) ?? []
                            keptOwners.formUnion(mxHosts)
                        }
                    }
                    do {
                        let caCertificate =
                            spec.usage == 0 || spec.usage == 2
                            ? try issuer(service.address, slot) : nil
                        let result = try TLSARecordSet.records(
                            apex: apex, specs: [spec], ttl: service.daneTTL ?? 0, certificate: cert,
                            issuer: caCertificate, sans: sans, mxHosts: mxHosts, sourceFile: service.file)
                        records += result.records
                        result.warnings.forEach(warn)
                    } catch {
                        warn(.warning(file: service.file, key: "dane_tls", "\(spec): \(oneLine(error))"))
                    }
                }
                guard !records.isEmpty else { continue }
                let text = records.map(\.zoneText).joined(separator: "\n") + "\n"
                sections.append(.init(service: service.address.service, slot: slot.rawValue, tlsaText: text))
                slotRecords.append(
                    DANESlotRecords(
                        service: service.address.service, slot: slot.rawValue,
                        records: records.map { record in
                            DANERecord(
                                owner: record.owner, ttl: record.ttl,
                                rdata: "\(record.usage) \(record.selector) \(record.matchingType) \(record.dataHex)")
                        }))
            }
        }

        var note: String?
        if needsFallback {
            let reason = dns.map { $0.failure ?? "no MX answer recorded" } ?? "not gathered"
            let head = "DNS facts for \(apex) unavailable (\(oneLine(reason))): "
            if keptOwners.isEmpty {
                note = head + "no published TLSA owners to keep; MX host records left out until DNS answers"
            } else {
                note = head + "kept the published TLSA owners " + keptOwners.sorted().joined(separator: ", ")
            }
        }
        let content = TLSADomainFile.render(apex: apex, rolling: rolling, sections: sections)
        return Output(content: content, note: note, warnings: warnings, slotRecords: slotRecords)
    }

    /// Digest of the record lines of a TLSA zone-file text, so that comments, blank lines, headers,
    /// indentation, spacing and record order never count as a difference: lines are stripped, blank lines
    /// and lines starting with `;` dropped, continuation lines (leading white space) joined to their
    /// record, runs of white space collapsed to one space, and the records sorted. `sha256:<hex>`.
    public static func normalisedDigest(of text: String) -> String {
        ContentDigest.labelled(Array(normalisedRecords(of: text).joined(separator: "\n").utf8))
    }

    /// The normalised records `normalisedDigest` hashes (sorted).
    public static func normalisedRecords(of text: String) -> [String] {
        asciiNormalisedRecords(of: text) ?? characterNormalisedRecords(of: text)
    }

    /// `normalisedRecords` of any text, by `Character`s.
    static func characterNormalisedRecords(of text: String) -> [String] {
        var records: [String] = []
        for rawLine in text.split(omittingEmptySubsequences: true, whereSeparator: \.isNewline) {
            let fields = rawLine.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard let first = fields.first, !first.hasPrefix(";") else { continue }
            let line = fields.joined(separator: " ")
            if let lead = rawLine.first, lead == " " || lead == "\t", !records.isEmpty {
                records[records.count - 1] += " " + line
            } else {
                records.append(line)
            }
        }
        return records.sorted()
    }

    /// `normalisedRecords` of an ASCII text, by bytes (a TLSA file is read several times per apex and run;
    /// splitting it into `Character`s was a quarter of the observation's TLSA time); nil for any other
    /// text. For ASCII the lines and fields are the same: the newline characters are LF, CR, VT and FF
    /// (CR LF is one `Character`, two separators here, and empty lines are dropped either way).
    static func asciiNormalisedRecords(of text: String) -> [String]? {
        var text = text
        return text.withUTF8 { bytes -> [String]? in
            guard bytes.allSatisfy({ $0 < 0x80 }) else { return nil }
            var records: [String] = []
            var start = 0
            while start < bytes.count {
                var end = start
                while end < bytes.count, !isNewline(bytes[end]) { end += 1 }
                if end > start { appendRecord(UnsafeBufferPointer(rebasing: bytes[start..<end]), to: &records) }
                start = end + 1
            }
            return records.sorted()
        }
    }

    private static func isNewline(_ byte: UInt8) -> Bool { byte >= 0x0A && byte <= 0x0D }

    /// One line of `asciiNormalisedRecords`: fields split on spaces and tabs, a comment dropped, a line that
    /// starts with white space joined to the record before it.
    private static func appendRecord(_ line: UnsafeBufferPointer<UInt8>, to records: inout [String]) {
        var fields: [String] = []
        var index = 0
        while index < line.count {
            while index < line.count, line[index] == 0x20 || line[index] == 0x09 { index += 1 }
            let start = index
            while index < line.count, line[index] != 0x20, line[index] != 0x09 { index += 1 }
            if index > start {
                fields.append(String(decoding: UnsafeBufferPointer(rebasing: line[start..<index]), as: UTF8.self))
            }
        }
        guard let first = fields.first, !first.hasPrefix(";") else { return }
        let joined = fields.joined(separator: " ")
        if line[0] == 0x20 || line[0] == 0x09, !records.isEmpty {
            records[records.count - 1] += " " + joined
        } else {
            records.append(joined)
        }
    }

    /// DNS names then IP addresses of the certificate's SAN extension (what `.sans` owners come from).
    static func certificateSANs(_ certificate: Certificate) -> [String] {
        var dns: [String] = []
        var ips: [String] = []
        for name in (try? certificate.extensions.subjectAlternativeNames) ?? SubjectAlternativeNames() {
            switch AlternativeName(generalName: name) {
            case .dnsName(let value): dns.append(value)
            case .ipAddress(let value): ips.append(value)
            case nil: break
            }
        }
        return dns + ips
    }
}

/// The owners of an existing `tlsa.<apex>` file, by the service section they appear in (including rows
/// commented out as duplicates), for keeping MX owners when DNS is unavailable.
struct PublishedOwners {
    /// service → owners (lowercase, no trailing dot), in file order.
    private var byService: [String: [String]] = [:]
    private var all: [String] = []

    init(text: String) {
        var service: String?
        for rawLine in text.split(omittingEmptySubsequences: true, whereSeparator: \.isNewline) {
            if let lead = rawLine.first, lead == " " || lead == "\t" { continue }  // continuation
            var fields = rawLine.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard let first = fields.first else { continue }
            if first.hasPrefix(";") {
                // `;; <service> <slot>` opens a section; `;; <record>` is a commented duplicate row.
                fields = Array(fields.drop { $0.allSatisfy { $0 == ";" } })
                if fields.count == 2, fields[1] == "curr" || fields[1] == "next" {
                    service = fields[0]
                    continue
                }
            }
            guard let owner = fields.first, fields.contains("TLSA") else { continue }
            var name = owner.lowercased()
            while name.hasSuffix(".") { name.removeLast() }
            all.append(name)
            if let service { byService[service, default: []].append(name) }
        }
    }

    /// The non-apex hosts of `_<port>._<proto>.<host>` owners of this service's rows; when the service
    /// has none (a service new since the file was written), those of any service for that port/proto.
    func hosts(service: String, spec: DANESpec, apex: String) -> [String] {
        let own = hosts(in: byService[service] ?? [], spec: spec, apex: apex)
        return own.isEmpty ? hosts(in: all, spec: spec, apex: apex) : own
    }

    private func hosts(in owners: [String], spec: DANESpec, apex: String) -> [String] {
        let prefix = "_\(spec.port)._\(spec.proto.lowercased())."
        var apexName = apex.lowercased()
        while apexName.hasSuffix(".") { apexName.removeLast() }
        var result = Set<String>()
        for owner in owners where owner.hasPrefix(prefix) {
            let host = String(owner.dropFirst(prefix.count))
            if !host.isEmpty, host != apexName { result.insert(host) }
        }
        return result.sorted()
    }
}

/// An error as one line (problems and notes are single lines).
func oneLine(_ error: any Error) -> String { oneLine(String(describing: error)) }

func oneLine(_ text: String) -> String {
    text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
}
