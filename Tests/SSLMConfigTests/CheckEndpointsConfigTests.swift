import Foundation
import SSLMConfig
import SSLMCore
import SSLMTestSupport
import Testing

/// `check_endpoints` in a service file (what `sslm check` probes) and the web-service default.
@Suite("check_endpoints: syntax, config check messages, the web default")
struct CheckEndpointsConfigTests {
    private static let mail = "conf.d/example.com/mail"
    private static let web = ServiceAddress(group: "example.com", service: "web")

    /// The baseline with `lines` added to example.com/mail's top-level keys.
    private func mailWith(_ lines: String) throws -> TestTopdir {
        try TestTopdir([
            "example.com/mail": replacing(
                "example.com/mail", "signing_ca = 'int'", with: "signing_ca = 'int'\n" + lines)
        ])
    }

    @Test("HOST:PORT and HOST:PORT=PROTOCOL: names, addresses, protocols, in file order")
    func parses() throws {
        let topdir = try mailWith(
            """
            check_endpoints = ['Mail.Example.com.:25', 'imap.example.com:143=IMAP', '192.0.2.1:443',
                               '[2001:db8::1]:8443', 'smtp.example.com:465=none', 'mail.example.com:587=smtp']
            """)
        let result = topdir.load()
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics)")
        let config = try #require(result.config)
        let mail = try #require(config.service(ServiceAddress(group: "example.com", service: "mail")))
        let endpoints = try #require(mail.checkEndpoints)
        #expect(
            endpoints.map(\.description) == [
                "mail.example.com:25", "imap.example.com:143=imap", "192.0.2.1:443", "[2001:db8::1]:8443",
                "smtp.example.com:465=none", "mail.example.com:587=smtp",
            ])
        #expect(endpoints[0].startTLS == nil && endpoints[1].startTLS == "imap")
        #expect(endpoints[2].hostIsAddress && endpoints[3].hostIsAddress && !endpoints[0].hostIsAddress)
        #expect(config.checkEndpoints(for: mail).source == .configured)
    }

    @Test("a repeated host and port is a warning and is checked once")
    func repeated() throws {
        let topdir = try mailWith("check_endpoints = ['mail.example.com:25', 'MAIL.example.com:25=smtp']")
        let result = topdir.load()
        let config = try #require(result.config, "\(result.diagnostics)")
        #expect(
            result.diagnostics.contains {
                $0.severity == .warning && $0.file == Self.mail && $0.key == "check_endpoints"
                    && $0.message.contains("item 2 'MAIL.example.com:25=smtp' repeats 'mail.example.com:25'")
            }, "\(result.diagnostics)")
        let mail = try #require(config.service(ServiceAddress(group: "example.com", service: "mail")))
        #expect(mail.checkEndpoints?.count == 1)
    }

    /// One bad value: the error names the file and key, says what was expected and what was found.
    @Test(
        "config check: a bad entry is an error with file, key, expected and found",
        arguments: [
            (
                "['mail.example.com']", "item 1: no port: expected 'HOST:PORT' or 'HOST:PORT=PROTOCOL'",
                "found 'mail.example.com'"
            ),
            ("['mail.example.com:0']", "item 1: port 0 is outside 1–65535", "found 'mail.example.com:0'"),
            ("['mail.example.com:70000']", "item 1: port 70000 is outside 1–65535", "found 'mail.example.com:70000'"),
            ("['mail.example.com:smtp']", "item 1: the port \"smtp\" is not a number", "found 'mail.example.com:smtp'"),
            (
                "['a.example.com:443', 'mail.example.com:25=gopher']",
                "item 2: unknown STARTTLS protocol \"gopher\" (expected one of ftp, imap,",
                "found 'mail.example.com:25=gopher'"
            ),
            ("['*.example.com:443']", "item 1: \"*.example.com\" is a wildcard", "found '*.example.com:443'"),
            ("['2001:db8::1:443']", "item 1: an IPv6 address needs brackets", "found '2001:db8::1:443'"),
            ("['[2001:db8::1]']", "item 1: no port after the IPv6 address", "found '[2001:db8::1]'"),
            ("[':443']", "item 1: is empty", "found ':443'"),
            (
                "['mail example.com:25']", "item 1: \"mail example.com\" contains a character not allowed",
                "found 'mail example.com:25'"
            ),
            (
                "['mail.example.com:25 smtp']",
                "item 1: the protocol goes after \"=\", not a space: 'mail.example.com:25=smtp'",
                "found 'mail.example.com:25 smtp'"
            ),
            (
                "['smtp://mx.example.com:25']",
                "item 1: a URL; the protocol goes after the port: 'HOST:PORT=smtp'",
                "found 'smtp://mx.example.com:25'"
            ),
            ("[25]", "item 1: expected a string 'HOST:PORT' or 'HOST:PORT=PROTOCOL'", "found an integer 25"),
            ("'mail.example.com:25'", "expected a list of 'HOST:PORT' or 'HOST:PORT=PROTOCOL'", "found a string"),
        ])
    func badEntry(value: String, expected: String, found: String) throws {
        let topdir = try mailWith("check_endpoints = \(value)")
        let result = topdir.load()
        #expect(result.config == nil)
        let error = try #require(
            result.diagnostics.first { $0.severity == .error && $0.key == "check_endpoints" }, "\(result.diagnostics)")
        #expect(error.file == Self.mail)
        #expect(error.message.contains(expected), "\(error.message)")
        #expect(error.message.contains(found), "\(error.message)")
        #expect(error.description.hasPrefix("error: \(Self.mail): check_endpoints: "), "\(error.description)")
    }

    /// The baseline plus example.com/web (no check_endpoints unless `extra`), a `[web]` table and an
    /// http-01 CA when asked.
    private func webTopdir(svcDepends: String? = nil, signer: String = "int", extra: [String] = []) throws -> Config {
        var main = ScratchTopdir.mainConf(groups: ["ca": ["root", "int"], "example.com": ["mail", "web"]])
        main += "\n[web]\nservers = []\nserver_dir = 'www'\n" + (svcDepends.map { "svc_depends = \($0)\n" } ?? "")
        let topdir = try TestTopdir([
            "ssl-mgr.conf": main,
            "ca-info.conf": TestTopdir.baselineCAInfo
                + "\n[lehttp]\nca_type = 'letsencrypt'\nca_validation = 'http-01'\n",
            "example.com/web": ScratchTopdir.serviceConf(
                name: "Web", group: "example.com", service: "web", signer: signer, extra: extra,
                key: ["ktype = 'ec'"], commonName: "example.com", organization: "Example",
                sans: ["www.example.com"] + (signer == "lehttp" ? [] : ["*.example.com"]) + ["192.0.2.7"])
                + (signer == "lehttp" ? "\nemail = 'hostmaster@example.com'" : ""),
        ])
        let result = topdir.load()
        return try #require(result.config, "\(result.diagnostics)")
    }

    @Test("a web service without check_endpoints: its SANs on 443, wildcards left out")
    func webDefault() throws {
        for (svcDepends, signer, reason) in [
            ("[['example.com', ['web']]]", "int", "[web] svc_depends names it (example.com)"),
            ("[['any', ['mail', 'web']]]", "int", "[web] svc_depends names it (any)"),
            (nil, "lehttp", "its CA lehttp validates with http-01"),  // (no wildcard SAN: http-01 cannot)
        ] {
            let config = try webTopdir(svcDepends: svcDepends, signer: signer)
            let web = try #require(config.service(Self.web))
            #expect(config.webServiceReason(web) == reason)
            let chosen = config.checkEndpoints(for: web)
            #expect(chosen.source == .webDefault(reason: reason))
            #expect(
                chosen.endpoints.map(\.description) == ["example.com:443", "www.example.com:443", "192.0.2.7:443"])
            // The mail service is not a web service (svc_depends with 'any' names it: then it is).
            let mail = try #require(config.service(ServiceAddress(group: "example.com", service: "mail")))
            #expect((config.webServiceReason(mail) != nil) == (svcDepends?.contains("'mail'") ?? false))
        }
    }

    @Test("not a web service: no endpoints; check_endpoints = [] turns the web default off")
    func notWeb() throws {
        let plain = try webTopdir(svcDepends: "[['example.net', ['web']]]")
        let web = try #require(plain.service(Self.web))
        #expect(plain.webServiceReason(web) == nil, "another group's svc_depends does not count")
        #expect(plain.checkEndpoints(for: web) == ServiceCheckEndpoints(endpoints: [], source: .none))

        let off = try webTopdir(svcDepends: "[['example.com', ['web']]]", extra: ["check_endpoints = []"])
        let offWeb = try #require(off.service(Self.web))
        #expect(off.checkEndpoints(for: offWeb) == ServiceCheckEndpoints(endpoints: [], source: .configured))

        let given = try webTopdir(
            svcDepends: "[['example.com', ['web']]]", extra: ["check_endpoints = ['www.example.com:8443']"])
        let givenWeb = try #require(given.service(Self.web))
        #expect(given.checkEndpoints(for: givenWeb).endpoints.map(\.description) == ["www.example.com:8443"])
    }
}
