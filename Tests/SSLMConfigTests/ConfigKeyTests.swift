import Foundation
import SSLMConfig
import SSLMCore
import Testing

@Suite("Every config key, with its default")
struct ConfigKeyTests {
    @Test("the baseline loads with no diagnostics")
    func baselineIsClean() throws {
        let topdir = try TestTopdir()
        let result = topdir.load()
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics)")
        #expect(result.config != nil)
    }

    @Test("defaults when keys are absent")
    func defaults() throws {
        let topdir = try TestTopdir([
            "ssl-mgr.conf": """
            [[groups]]
            domain = 'example.com'
            services = ['web']
            """,
            "ca-info.conf": nil,
            "example.com/web": """
            name = 'Web'
            group = 'example.com'
            service = 'web'
            [KeyOpts]
            [X509]
            CN = 'example.com'
            O = 'Example'
            C = 'US'
            [CA]
            sign_end_days = 30
            """,
        ])
        let result = topdir.load()
        let config = try #require(result.config, "\(result.diagnostics)")
        let g = config.globals
        #expect(g.verbose == false)
        #expect(g.prodCertDir == "/etc/ssl-mgr/prod-certs")
        #expect(g.logDir == "/var/log/ssl-mgr")
        #expect(g.cleanKeep == 10)
        #expect(g.minRollMinutes == 90)
        #expect(g.daneRollStuckHours == 24 && g.daneRollDeadlineDays == 3)
        #expect(config.dns.daneConnect.isEmpty && !config.dns.daneUnreachableHolds)
        #expect(g.dnsCheckDelaySeconds == 0)
        #expect(
            g.dnsExtraNameservers.map(\.description) == ["1.1.1.1:53", "8.8.8.8:53", "9.9.9.9:53", "208.67.222.222:53"])
        #expect(g.postCopyCommands.isEmpty)
        #expect(config.renewInfo == .builtin)
        #expect(config.dnsPrimaries.isEmpty && config.dnsNameservers.isEmpty)
        #expect(config.dns == DNSSettings())
        #expect(config.servers.isEmpty)
        let group = try #require(config.groups.first)
        #expect(group.active == false && group.discovered == false && group.services == ["web"])
        #expect(config.activeServices.isEmpty)
        let web = try #require(config.service(ServiceAddress(group: "example.com", service: "web")))
        #expect(web.signer == .selfSigned)
        #expect(web.dane.isEmpty)
        #expect(web.daneTTL == 1800)
        #expect(web.key == .ec(.secp384r1))
        #expect(web.subject.organizationalUnit == "" && web.subject.locality == "" && web.subject.state == "")
        #expect(web.subject.email == "")
        #expect(web.sans == ["example.com"])
        #expect(web.signing == SigningSettings(validityDays: 30, digest: .sha384))
        #expect(web.renewInfo == .builtin)
    }

    @Test("every key set to a non-default value")
    func everyKey() throws {
        let topdir = try TestTopdir([
            "ssl-mgr.conf": """
            [globals]
            verb = true
            sslm_auth_hook = '/usr/lib/ssl-mgr/sslm-auth-hook'
            prod_cert_dir = '/srv/prod-certs'
            logdir = 'var/log'
            clean_keep = 3
            min_roll_mins = 0
            dane_roll_stuck_hours = 6
            dane_roll_deadline_days = 0
            dns_check_delay = 30
            dns_xtra_ns = ['127.0.0.1:5054', '[::1]:5055', '::1']
            post_copy_cmd = [['example.com', '/etc/ssl-mgr/tools/update-permissions']]

            [renew_info]
            target_90 = 25.0
            rand_adj_90 = 2
            target_6 = 3

            [[groups]]
            domain = 'ca'
            services = ['root', 'int']
            active = true

            [[groups]]
            domain = 'example.com'
            services = 'ALL'
            active = true

            [[dns_primary]]
            domain = 'example.com'
            server = '127.0.0.1:5053'

            [[dns_primary]]
            domain = '*'
            server = '10.0.0.1'
            port = 10053

            [[dns_nameservers]]
            domain = 'example.com'
            servers = ['127.0.0.1:5053', '127.0.0.1:5054']

            [dns]
            restart_cmd = '/usr/local/bin/resign --quiet'
            acme_dir = ['dns/acme-a', '/var/dns/acme-b']
            tlsa_dirs = ['dns/tlsa']
            dane_connect = ['Mail.Example.com.=127.0.0.1:2525']
            dane_unreachable_holds = true
            depends = ['dns', 'tlsa']
            skip_prod_copy = true

            [smtp]
            servers = ['mx1.example.com', 'mx2.example.com']
            restart_cmd = ['/usr/sbin/postmap -F lmdb:/etc/postfix/sni_maps', '/usr/sbin/postfix reload']
            svc_depends = [['example.com', ['mail']], ['any', ['web']]]
            depends = ['dns']
            restart_timeout = 30

            [web]
            servers = ['www1']
            restart_cmd = '/usr/bin/systemctl reload nginx'
            server_dir = '/srv/http'
            skip_prod_copy = true

            [ldap]
            servers = ['ldap1']
            restart_cmd = '/usr/bin/systemctl restart slapd'
            """,
            "ca-info.conf": """
            [root]
            ca_type = 'self'
            ca_desc = 'Test root'
            [int]
            ca_type = 'local'
            [le]
            ca_type = 'letsencrypt'
            ca_validation = 'dns-01'
            ca_preferred_chain = 'ISRG Root X2'
            ca_preferred_acme_profile = 'shortlived'
            ca_eab_kid = 'kid-1'
            ca_eab_hmac_key = 'c2VjcmV0LWtleQ'
            [pebble]
            ca_type = 'acme'
            ca_validation = 'http-01'
            ca_directory_url = 'https://127.0.0.1:14000/dir'
            ca_staging_directory_url = 'https://127.0.0.1:14001/dir'
            ca_trust_file = 'pebble.pem'
            ca_preferred_acme_profile = ''
            """,
            "../pebble.pem": "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n",
            "example.com/mail": """
            name = 'Mail'
            group = 'example.com'
            service = 'mail'
            signing_ca = 'le'
            dane_tls = [[25, 'tcp', 3, 1, 1], [465, 'tcp', 2, 0, 2, 'mx']]
            dane_tls_ttl = 0
            renew_expire_days = 21
            renew_expire_days_spread = 1
            [KeyOpts]
            ktype = 'ec'
            ec_algo = 'prime256v1'
            [X509]
            CN = 'example.com'
            O = 'Example'
            OU = 'Mail'
            L = 'Springfield'
            ST = 'Oregon'
            C = 'us'
            email = 'hostmaster@example.com'
            sans = ['mail.example.com', '*.example.com']
            """,
            "example.com/web": """
            name = 'Web'
            group = 'example.com'
            service = 'web'
            signing_ca = 'pebble'
            [KeyOpts]
            ktype = 'rsa'
            rsa_bits = '3072'
            [X509]
            CN = 'www.example.com'
            O = 'Example'
            C = 'US'
            sans = ['192.0.2.1', '2001:db8::1']
            """,
            "ca/root": replacing("ca/root", "ktype = 'ec'", with: "ktype = 'ed25519'"),
            "ca/int": replacing("ca/int", "digest = 'sha256'", with: "digest = 'sha512'"),
        ])
        let result = topdir.load()
        let config = try #require(result.config, "\(result.diagnostics)")
        let g = config.globals
        #expect(g.verbose)
        #expect(g.prodCertDir == "/srv/prod-certs")
        #expect(g.logDir == topdir.path + "/var/log")
        #expect(g.cleanKeep == 3)
        #expect(g.minRollMinutes == 0)
        #expect(g.daneRollStuckHours == 6 && g.daneRollDeadlineDays == 0)
        #expect(g.dnsCheckDelaySeconds == 30)
        #expect(
            g.dnsExtraNameservers == [
                NameserverAddress(host: "127.0.0.1", port: 5054),
                NameserverAddress(host: "::1", port: 5055), NameserverAddress(host: "::1"),
            ])
        #expect(
            g.postCopyCommands == [
                PostCopyCommand(host: "example.com", command: "/etc/ssl-mgr/tools/update-permissions")
            ])
        #expect(config.renewInfo.targetDays(lifetimeDays: 90) == 25)
        #expect(config.renewInfo.randomHalfWidthDays(lifetimeDays: 90) == 2)
        #expect(config.renewInfo.targetDays(lifetimeDays: 6) == 3)
        #expect(config.groups.map(\.domain) == ["ca", "example.com"])
        #expect(config.groups[1].discovered && config.groups[1].services == ["mail", "web"])
        #expect(config.dnsPrimary(for: "example.com")?.server == NameserverAddress(host: "127.0.0.1", port: 5053))
        #expect(config.dnsPrimary(for: "example.net")?.server == NameserverAddress(host: "10.0.0.1", port: 10053))
        #expect(config.dnsNameservers(for: "example.com")?.map(\.port) == [5053, 5054])
        #expect(config.dnsNameservers(for: "example.net") == nil)
        #expect(config.dns.restartCommands == [["/usr/local/bin/resign", "--quiet"]])
        #expect(config.dns.acmeDirs == [topdir.path + "/dns/acme-a", "/var/dns/acme-b"])
        #expect(config.dns.tlsaDirs == [topdir.path + "/dns/tlsa"])
        #expect(config.dns.daneConnect == ["mail.example.com": NameserverAddress(host: "127.0.0.1", port: 2525)])
        #expect(config.dns.daneUnreachableHolds)
        #expect(config.dns.depends == [.dns, .tlsa])
        #expect(config.servers.map(\.name) == ["smtp", "web", "ldap"])
        let smtp = config.servers[0]
        #expect(smtp.servers == ["mx1.example.com", "mx2.example.com"])
        #expect(
            smtp.restartCommands == [
                ["/usr/sbin/postmap", "-F", "lmdb:/etc/postfix/sni_maps"], ["/usr/sbin/postfix", "reload"],
            ])
        #expect(smtp.serviceDependencies.count == 2, "every svc_depends pair counts")
        #expect(smtp.serviceDependencies[1].matchesEveryGroup)
        #expect(smtp.depends == [.dns])
        #expect(smtp.restartTimeoutSeconds == 30)
        #expect(smtp.skipProdCopy == false)
        let web = try #require(config.web)
        #expect(web.serverDir == "/srv/http" && web.skipProdCopy && web.restartTimeoutSeconds == 120)
        #expect(config.servers[2].restartCommands == [["/usr/bin/systemctl", "restart", "slapd"]])

        let le = try #require(config.certificateAuthorities["le"]?.acme)
        #expect(le.validation == .dns01)
        #expect(le.preferredChain == "ISRG Root X2")
        #expect(le.preferredProfile == .named("shortlived"))
        #expect(le.directoryURL == ACMESettings.letsEncryptProduction)
        #expect(le.stagingDirectoryURL == ACMESettings.letsEncryptStaging)
        #expect(le.externalAccountKeyID == "kid-1")
        #expect(le.externalAccountHMACKey?.value == "c2VjcmV0LWtleQ")
        #expect("\(le)".contains("c2VjcmV0LWtleQ") == false, "the EAB key never prints")
        let pebble = try #require(config.certificateAuthorities["pebble"]?.acme)
        #expect(pebble.validation == .http01)
        #expect(pebble.directoryURL == "https://127.0.0.1:14000/dir")
        #expect(pebble.stagingDirectoryURL == "https://127.0.0.1:14001/dir")
        #expect(pebble.trustFile == topdir.path + "/pebble.pem")
        #expect(pebble.preferredProfile == .noProfile)
        #expect(config.certificateAuthorities["root"]?.description == "Test root")
        #expect(config.certificateAuthorities["int"]?.isLocal == true)

        let mail = try #require(config.service(ServiceAddress(group: "example.com", service: "mail")))
        #expect(mail.signer == .authority("le"))
        #expect(
            mail.dane == [
                DANESpec(port: 25, proto: "tcp", usage: 3, selector: 1, matchingType: 1),
                DANESpec(port: 465, proto: "tcp", usage: 2, selector: 0, matchingType: 2, subtype: .mx),
            ])
        #expect(mail.daneTTL == nil)
        #expect(mail.key == .ec(.secp256r1))
        #expect(
            mail.subject
                == X509Settings(
                    commonName: "example.com", organization: "Example", organizationalUnit: "Mail",
                    locality: "Springfield", state: "Oregon", country: "us",
                    email: "hostmaster@example.com"))
        #expect(mail.sans == ["example.com", "mail.example.com", "*.example.com"])
        #expect(mail.renewInfo.targetDays(lifetimeDays: 90) == 21, "the 6.x per-service key applies to this service")
        #expect(mail.renewInfo.randomHalfWidthDays(lifetimeDays: 90) == 1)
        let web2 = try #require(config.service(ServiceAddress(group: "example.com", service: "web")))
        #expect(web2.key == .rsa(bits: 3072))
        // IP addresses validate by http-01 only (a dns-01 CA refuses them at config check).
        #expect(web2.sans == ["www.example.com", "192.0.2.1", "2001:db8::1"])
        #expect(web2.renewInfo.targetDays(lifetimeDays: 90) == 25)
        #expect(config.service(ServiceAddress(group: "ca", service: "root"))?.key == .ed25519)
        #expect(config.service(ServiceAddress(group: "ca", service: "int"))?.signing?.digest == .sha512)
        // Warnings for the deprecated per-service keys, nothing else.
        #expect(
            result.diagnostics.map(\.key) == ["renew_expire_days", "renew_expire_days_spread"],
            "\(result.diagnostics)")
    }

    @Test("unknown keys and tables are warnings with file and key, and the config still loads")
    func unknownKeys() throws {
        let topdir = try TestTopdir([
            "ssl-mgr.conf": appending("ssl-mgr.conf", "[globalz]\nfoo = 1\n[smtp]\nservers = []\nrestart = 'x'"),
            "example.com/mail": replacing("example.com/mail", "rsa_bits = 2048", with: "bits = 2048")
                + "\n[Extra]\nx = 1\n",
        ])
        let result = topdir.load()
        #expect(result.config != nil)
        let warnings = result.diagnostics.warnings
        #expect(result.diagnostics.errors.isEmpty)
        #expect(warnings.contains { $0.file == "conf.d/ssl-mgr.conf" && $0.table == "globalz" })
        #expect(warnings.contains { $0.table == "smtp" && $0.key == "restart" && $0.message.contains("restart_cmd") })
        #expect(
            warnings.contains {
                $0.file == "conf.d/example.com/mail" && $0.table == "KeyOpts" && $0.key == "bits"
                    && $0.message.contains("did you mean \"rsa_bits\"")
            })
        #expect(warnings.contains { $0.file == "conf.d/example.com/mail" && $0.table == "Extra" })
    }

    @Test("a 6th dane_tls element overrides the port rule; port 25 means MX, others SANs")
    func daneHostSets() {
        #expect(DANESpec(port: 25, proto: "tcp", usage: 3, selector: 1, matchingType: 1).hostSet == .mx)
        #expect(DANESpec(port: 443, proto: "tcp", usage: 3, selector: 1, matchingType: 1).hostSet == .sans)
        #expect(
            DANESpec(port: 25, proto: "tcp", usage: 3, selector: 1, matchingType: 1, subtype: .sans).hostSet == .sans)
        #expect(DANESpec(port: 587, proto: "tcp", usage: 3, selector: 1, matchingType: 1, subtype: .mx).hostSet == .mx)
    }

    @Test("dane_tls with 6 elements (case-insensitive subtype) parses")
    func daneSixElements() throws {
        let topdir = try TestTopdir([
            "example.com/mail": replacing(
                "example.com/mail", "[[25, 'tcp', 3, 1, 1]]",
                with: "[[25, 'TCP', 3, 1, 1, 'sans'], [443, 'tcp', 3, 0, 0]]")
        ])
        let config = try #require(topdir.load().config)
        let mail = try #require(config.service(ServiceAddress(group: "example.com", service: "mail")))
        #expect(mail.dane.map(\.hostSet) == [.sans, .sans])
        #expect(mail.dane[0].proto == "tcp")
        #expect(mail.dane[1].selector == 0 && mail.dane[1].matchingType == 0)
    }

    @Test("verb = true in the config works (ssl-mgr's CLI default overrode it)")
    func verbWorks() throws {
        let topdir = try TestTopdir([
            "ssl-mgr.conf": replacing("ssl-mgr.conf", "[globals]", with: "[globals]\nverb = true")
        ])
        #expect(topdir.load().config?.globals.verbose == true)
    }

    @Test("dns_primary is not required when nothing needs DNS")
    func dnsPrimaryOptional() throws {
        let topdir = try TestTopdir([
            "ssl-mgr.conf": replacing(
                "ssl-mgr.conf", "[[dns_primary]]\ndomain = 'default'\nserver = '127.0.0.1'\nport = 5053\n", with: ""),
            "example.com/mail": replacing(
                "example.com/mail", "dane_tls = [[25, 'tcp', 3, 1, 1]]", with: "dane_tls = [[443, 'tcp', 3, 1, 1]]"),
        ])
        let result = topdir.load()
        #expect(result.config != nil, "\(result.diagnostics)")
    }

    @Test("groups named on the command line need not be in [[groups]]")
    func extraTargets() throws {
        let topdir = try TestTopdir([
            "example.net/web": """
            name = 'Net'
            group = 'example.net'
            service = 'web'
            signing_ca = 'int'
            [KeyOpts]
            [X509]
            CN = 'example.net'
            O = 'Example'
            C = 'US'
            """
        ])
        let config = try #require(
            topdir.load(extraTargets: [ServiceAddress(group: "example.net", service: "web")]).config)
        #expect(config.service(ServiceAddress(group: "example.net", service: "web")) != nil)
        #expect(!config.activeServices.contains(ServiceAddress(group: "example.net", service: "web")))
    }

    @Test("relative paths are resolved against the topdir")
    func relativePaths() throws {
        let topdir = try TestTopdir()
        let config = try #require(topdir.load().config)
        #expect(config.globals.prodCertDir == topdir.path + "/prod")
        #expect(config.dns.tlsaDirs == [topdir.path + "/dns/tlsa"])
    }

    @Test("the config digest changes with any file")
    func digest() throws {
        let a = try #require(try TestTopdir().load().config?.digest)
        let b = try #require(
            try TestTopdir(["ca/int": replacing("ca/int", "sign_end_days = 90", with: "sign_end_days = 91")]).load()
                .config?.digest)
        #expect(a.hasPrefix("sha256:"))
        #expect(a == (try TestTopdir().load().config?.digest))
        #expect(a != b)
    }
}

@Suite("ssh_config")
struct SSHConfigKeyTests {
    @Test("ssh_config is resolved against the topdir and must be readable")
    func sshConfig() throws {
        let topdir = try TestTopdir([
            "ssl-mgr.conf": replacing("ssl-mgr.conf", "[globals]", with: "[globals]\nssh_config = 'ssh/config'"),
            "../ssh/config": "Host *\n  Port 2222\n",
        ])
        let config = try #require(topdir.load().config)
        #expect(config.globals.sshConfig == topdir.path + "/ssh/config")
        let missing = try TestTopdir([
            "ssl-mgr.conf": replacing(
                "ssl-mgr.conf", "[globals]", with: "[globals]\nssh_config = '/nonexistent/ssh_config'")
        ])
        let errors = missing.load().diagnostics.errors
        #expect(
            errors.contains {
                $0.table == "globals" && $0.key == "ssh_config"
                    && $0.message.contains("cannot read /nonexistent/ssh_config")
            })
        #expect(try TestTopdir().load().config?.globals.sshConfig == nil)
        let spaced = try TestTopdir([
            "ssl-mgr.conf": replacing("ssl-mgr.conf", "[globals]", with: "[globals]\nssh_config = 'my ssh/config'"),
            "../my ssh/config": "Host *\n",
        ])
        #expect(
            spaced.load().diagnostics.errors.contains { $0.key == "ssh_config" && $0.message.contains("white space") })
    }
}

@Suite("retire_orphans")
struct RetireOrphansKeyTests {
    @Test("retire_orphans: false by default, true when set, and a non-bool is an error naming the key")
    func retireOrphans() throws {
        #expect(try TestTopdir().load().config?.globals.retireOrphans == false)
        let on = try TestTopdir([
            "ssl-mgr.conf": replacing("ssl-mgr.conf", "[globals]", with: "[globals]\nretire_orphans = true")
        ])
        let loaded = on.load()
        #expect(loaded.config?.globals.retireOrphans == true)
        #expect(!loaded.diagnostics.contains { $0.key == "retire_orphans" }, "\(loaded.diagnostics)")
        let wrong = try TestTopdir([
            "ssl-mgr.conf": replacing("ssl-mgr.conf", "[globals]", with: "[globals]\nretire_orphans = 'yes'")
        ])
        let errors = wrong.load().diagnostics.errors
        #expect(errors.contains { $0.table == "globals" && $0.key == "retire_orphans" }, "\(errors)")
    }
}
