import Foundation
import SSLMConfig
import SSLMCore
import SSLMPlan

/// One planner case: config edits, an observed state, a time, options, and what the plan must contain.
struct PlanCase: Sendable, CustomStringConvertible {
    var name: String
    var edits: [String: [(String, String)]] = [:]
    var now: Date = T0
    var targets: [String]? = nil
    var phase: Phase = .all
    var force = false
    var reuseKey = false
    var minRollMinutes: Int? = nil
    /// Record every curr as ordered from its service's ACME CA, with the account sslm holds
    /// (`ACMEIssuance.record`).
    var acmeIssued = false
    /// `sslm apply --retire` (and `--revoke`).
    var retire = false
    var revoke = false
    var state: @Sendable (inout StateBuilder) -> Void
    /// Action ids that must be in the plan, with their reason code ("" = any).
    var present: [String: String] = [:]
    /// Action ids that must not be in the plan.
    var absent: [String] = []
    /// `subject: code` of notes that must be there.
    var notes: [String] = []
    /// True when the plan must have no actions at all.
    var empty = false

    var description: String { name }
}

let T0 = Date(timeIntervalSince1970: 1_798_761_600)  // 2027-01-01T00:00:00Z
let minute: TimeInterval = 60
let day: TimeInterval = 86_400

let leaves = ["example.com/mail-ec", "example.com/mail-rsa", "example.com/web-ec", "example.net/web-ec"]

/// Root issued 100 d before T0, intermediate and leaves 10 d before: nothing due, everything published.
func inSync(_ b: inout StateBuilder, leafAge: TimeInterval = 10 * day, skip: Set<String> = []) {
    b.issue("ca/my-root", slot: "curr", at: T0 - 100 * day)
    b.issue("ca/my-int", slot: "curr", at: T0 - 10 * day)
    for leaf in leaves where !skip.contains(leaf) { b.issue(leaf, slot: "curr", at: T0 - leafAge) }
    b.syncEverything()
}

/// A leaf with a custom lifetime whose curr has `left` days to go at T0.
func leafWithLifetime(_ lifetime: Double, left: Double) -> @Sendable (inout StateBuilder) -> Void {
    { b in
        inSync(&b)
        b.issue("example.com/web-ec", slot: "curr", at: T0 - (lifetime - left) * day, days: lifetime)
        b.syncEverything()
    }
}

let serversConfig: [String: [(String, String)]] = [
    "ssl-mgr.conf": [
        ("restart_cmd = ''", "restart_cmd = '/usr/local/sbin/dns-refresh'"),
        (
            "[smtp]\n    servers = []",
            """
            [smtp]
                servers = ['mx1.example.com', 'sslm-host']
                restart_cmd = '/usr/sbin/postfix reload'
                svc_depends = [['example.com', ['mail-ec', 'mail-rsa']]]
            """
        ),
        (
            "[imap]\n    servers = []",
            """
            [imap]
                servers = ['mx1.example.com']
                restart_cmd = '/usr/bin/systemctl reload dovecot'
                svc_depends = [['example.net', ['web-ec']]]
            """
        ),
    ]
]

/// Leaves moved to the example's Let's Encrypt CAs: dns-01 for mail and example.net, http-01 for web.
let acmeEdits: [String: [(String, String)]] = [
    "ssl-mgr.conf": [("restart_cmd = ''", "restart_cmd = '/usr/local/bin/resign'")],
    "example.com/mail-ec": [("signing_ca = 'my-int'", "signing_ca = 'le-dns'")],
    "example.com/mail-rsa": [("signing_ca = 'my-int'", "signing_ca = 'le-dns'")],
    "example.com/web-ec": [("signing_ca = 'my-int'", "signing_ca = 'le-http'")],
    "example.net/web-ec": [("signing_ca = 'my-int'", "signing_ca = 'le-dns'")],
]

/// The ACME leaves with every zone changed by RFC 2136 (a TSIG key file in the topdir): no refresh.
let rfc2136Edits: [String: [(String, String)]] = acmeEdits.merging([
    "ssl-mgr.conf": [
        ("restart_cmd = ''", "restart_cmd = '/usr/local/bin/resign'"),
        (
            "    server = '127.0.0.1'\n    port = 53\n",
            "    server = '127.0.0.1'\n    port = 53\n    update = 'rfc2136'\n    tsig_key_file = 'tsig.key'\n"
        ),
    ],
    "../tsig.key": [
        ("", "key \"sslm-example.com\" {\n\talgorithm hmac-sha256;\n\tsecret \"c3NsbS10ZXN0LWtleQ==\";\n};")
    ],
]) { _, new in new }

let planCases: [PlanCase] = [
    PlanCase(
        name: "acme-fresh-install-rfc2136", edits: rfc2136Edits, state: { _ in },
        present: [
            "example.com/acme/dns-01/publish": "acme_challenge", "example.com/acme/dns-01/await": "",
            "example.com/acme/dns-01/clear": "", "example.com/tlsa/publish": "tlsa_changed",
        ],
        absent: ["acme/dns-01/refresh", "acme/dns-01/refresh-cleared", "dns/refresh"]),
    PlanCase(
        name: "acme-fresh-install", edits: acmeEdits, state: { _ in },
        present: [
            "example.com/mail-ec/next/order": "certificate_missing", "example.com/acme/dns-01/publish": "",
            "example.com/acme/dns-01/await": "", "example.com/acme/http-01/publish": "",
            "acme/dns-01/refresh": "", "example.com/mail-ec/next/answer": "", "example.com/mail-ec/next/cert": "",
            "example.com/acme/dns-01/clear": "", "acme/dns-01/refresh-cleared": "",
        ]),
    PlanCase(
        name: "acme-renewal-replaces-curr", edits: acmeEdits, now: T0 + 55 * day, acmeIssued: true,
        state: { inSync(&$0) },
        present: ["example.com/mail-ec/next/order": "renewal_due", "example.net/web-ec/next/order": "renewal_due"]),
    PlanCase(
        name: "fresh-install", state: { _ in },
        present: [
            "ca/my-root/next/dir": "certificate_missing", "ca/my-root/roll": "first_certificate",
            "ca/my-int/next/cert": "certificate_missing", "ca/my-int/roll": "first_certificate",
            "example.com/mail-ec/next/tlsa": "", "example.com/mail-ec/roll": "first_certificate",
            "example.net/web-ec/roll": "", "example.com/tlsa": "tlsa_changed",
            "example.com/tlsa/publish": "", "example.com/prod": "", "example.com/mail-ec/prod": "production_changed",
        ],
        absent: ["example.net/tlsa"], notes: ["dns: dns_changed"]),
    PlanCase(name: "in-sync", state: { inSync(&$0) }, empty: true),
    PlanCase(
        name: "renewal-due-90d", now: T0 + 55 * day, state: { inSync(&$0) },
        present: [
            "example.com/mail-ec/next/dir": "renewal_due", "example.com/mail-ec/next/key": "",
            "example.com/mail-ec/prod": "production_changed", "example.com/tlsa": "tlsa_changed",
        ],
        absent: ["example.com/mail-ec/roll"], notes: ["example.com/mail-ec: waiting_to_roll"]),
    PlanCase(name: "renewal-not-due-90d", now: T0 + 45 * day, state: { inSync(&$0) }, empty: true),
    PlanCase(
        name: "lifetime-6.67d-due", state: leafWithLifetime(6.67, left: 2.9),
        present: ["example.com/web-ec/next/dir": "renewal_due"]),
    PlanCase(
        name: "lifetime-6.67d-not-due", state: leafWithLifetime(6.67, left: 3.1),
        absent: ["example.com/web-ec/next/dir"], notes: ["example.com/web-ec: not_due"]),
    PlanCase(
        name: "lifetime-45d-due", state: leafWithLifetime(45, left: 9.9),
        present: ["example.com/web-ec/next/dir": "renewal_due"]),
    PlanCase(
        name: "lifetime-45d-not-due", state: leafWithLifetime(45, left: 10.1),
        absent: ["example.com/web-ec/next/dir"]),
    PlanCase(
        name: "lifetime-90d-due-beyond-spread", state: leafWithLifetime(90, left: 26.9),
        present: ["example.com/web-ec/next/dir": "renewal_due"]),
    PlanCase(
        name: "lifetime-90d-not-due-beyond-spread", state: leafWithLifetime(90, left: 33.1),
        absent: ["example.com/web-ec/next/dir"]),
    PlanCase(
        name: "lifetime-100d-due", state: leafWithLifetime(100, left: 31.2),
        present: ["example.com/web-ec/next/dir": "renewal_due"]),
    PlanCase(
        name: "lifetime-100d-not-due", state: leafWithLifetime(100, left: 38.8),
        absent: ["example.com/web-ec/next/dir"]),
    PlanCase(
        name: "lifetime-3650d-root-due", now: T0 + (3650 - 100 - 729) * day, targets: ["ca:my-root"],
        state: { b in
            b.issue("ca/my-root", slot: "curr", at: T0 - 100 * day)
            b.syncEverything()
        }, present: ["ca/my-root/next/dir": "renewal_due"]),
    PlanCase(
        name: "lifetime-3650d-root-not-due", now: T0 + (3650 - 100 - 731) * day, targets: ["ca:my-root"],
        state: { b in
            b.issue("ca/my-root", slot: "curr", at: T0 - 100 * day)
            b.syncEverything()
        }, empty: true),
    PlanCase(
        name: "next-waiting-to-roll",
        state: { b in
            inSync(&b)
            b.issue("example.com/mail-ec", slot: "next", at: T0 - 30 * minute)
            b.syncEverything()
        }, absent: ["example.com/mail-ec/roll"], notes: ["example.com/mail-ec: waiting_to_roll"], empty: true),
    PlanCase(
        name: "roll-exactly-at-min-roll-mins",
        state: { b in
            inSync(&b)
            b.issue("example.com/mail-ec", slot: "next", at: T0 - 90 * minute)
            b.syncEverything()
        },
        present: [
            "example.com/mail-ec/roll": "next_ready", "example.com/mail-ec/prod": "production_changed",
            "example.com/tlsa": "tlsa_changed",
        ]),
    PlanCase(
        name: "roll-one-minute-early",
        state: { b in
            inSync(&b)
            b.issue("example.com/mail-ec", slot: "next", at: T0 - 89 * minute)
            b.syncEverything()
        }, absent: ["example.com/mail-ec/roll"], notes: ["example.com/mail-ec: waiting_to_roll"]),
    PlanCase(
        name: "roll-next-older-than-a-day",
        state: { b in
            inSync(&b)
            b.issue("example.com/mail-ec", slot: "next", at: T0 - day - 10 * minute)
            b.syncEverything()
        }, present: ["example.com/mail-ec/roll": "next_ready"]),
    PlanCase(
        name: "next-incomplete-no-cert",
        state: { b in
            inSync(&b)
            b.issue("example.com/mail-ec", slot: "next", at: T0 - 5 * minute, files: ["privkey.pem", "csr.pem"])
            b.syncEverything()
        },
        present: [
            "example.com/mail-ec/next/cert": "next_incomplete", "example.com/mail-ec/next/bundle": "",
            "example.com/mail-ec/next/tlsa": "",
        ],
        absent: ["example.com/mail-ec/next/dir", "example.com/mail-ec/next/key", "example.com/mail-ec/next/csr"]),
    PlanCase(
        name: "next-incomplete-no-bundle",
        state: { b in
            inSync(&b)
            b.issue(
                "example.com/web-ec", slot: "next", at: T0 - 5 * minute,
                files: ["privkey.pem", "csr.pem", "cert.pem", "chain.pem", "fullchain.pem"])
            b.syncEverything()
        }, present: ["example.com/web-ec/next/bundle": "next_incomplete"],
        absent: ["example.com/web-ec/next/cert", "example.com/web-ec/next/dir"]),
    PlanCase(
        name: "next-dangling-link",
        state: { b in
            inSync(&b)
            b.link("example.com/mail-ec", "next", .dangling("db/20261231-23:00:00"))
        }, present: ["example.com/mail-ec/next/dir": "next_broken"]),
    PlanCase(
        name: "curr-dangling-link",
        state: { b in
            inSync(&b)
            b.link("example.com/web-ec", "curr", .dangling("db/20261201-00:00:00"))
        },
        present: ["example.com/web-ec/next/dir": "certificate_missing", "example.com/web-ec/roll": "first_certificate"]),
    PlanCase(
        name: "curr-key-mismatch",
        state: { b in
            inSync(&b)
            b.editDirectory("example.com/web-ec", "curr") { $0.key = KeyFacts(spec: .ec(.secp384r1), spkiSHA256: "00") }
        }, present: ["example.com/web-ec/next/dir": "key_mismatch", "example.com/web-ec/roll": "first_certificate"]),
    PlanCase(
        name: "curr-damaged-fullchain-missing-chain-repaired",
        state: { b in
            inSync(&b)
            b.editDirectory("example.com/web-ec", "curr") {
                $0.files["chain.pem"] = nil
                $0.files["fullchain.pem"] = StateBuilder.digest("junk")
                $0.damage = [
                    "chain.pem": "chain.pem is missing", "fullchain.pem": "fullchain.pem does not start with cert.pem",
                ]
            }
        },
        present: [
            "example.com/web-ec/curr/repair": "current_damaged", "example.com/web-ec/prod": "production_changed",
        ],
        absent: ["example.com/web-ec/next/dir", "example.com/web-ec/roll"]),
    PlanCase(
        name: "curr-key-mode-repaired-without-production-copy",
        state: { b in
            inSync(&b)
            b.editDirectory("example.com/web-ec", "curr") { $0.modeDrift = ["privkey.pem": "0644"] }
        }, present: ["example.com/web-ec/curr/repair": "current_damaged"], absent: ["example.com/web-ec/prod"]),
    PlanCase(
        name: "curr-certificate-unverified-renewed-and-rolled",
        state: { b in
            inSync(&b)
            b.editDirectory("example.com/web-ec", "curr") {
                $0.damage = [
                    "cert.pem": "cert.pem is issued by CN=evil, but chain.pem certificate 1 is CN=my-int (wrong chain)"
                ]
            }
        },
        present: ["example.com/web-ec/next/dir": "current_unverified", "example.com/web-ec/roll": "first_certificate"],
        absent: ["example.com/web-ec/curr/repair"]),
    PlanCase(
        name: "production-key-mode-drift",
        state: { b in
            inSync(&b)
            b.production[StateBuilder.address("example.com/web-ec")]?.modeDrift = ["curr/privkey.pem": "0644"]
        }, present: ["example.com/web-ec/prod": "production_drift"]),
    PlanCase(
        name: "curr-not-a-link",
        state: { b in
            inSync(&b)
            b.link("example.com/web-ec", "curr", .notALink)
        }, absent: ["example.com/web-ec/next/dir"], notes: ["example.com/web-ec: blocked"]),
    PlanCase(
        name: "config-changed-sans",
        edits: ["example.com/web-ec": [("sans = [", "sans = ['shop.example.com', ")]], state: { inSync(&$0) },
        present: ["example.com/web-ec/next/dir": "config_changed"], absent: ["example.com/web-ec/roll"]),
    PlanCase(
        name: "config-changed-key-type",
        edits: ["example.com/mail-ec": [("ktype = 'ec'", "ktype = 'rsa'")]], state: { inSync(&$0) },
        present: ["example.com/mail-ec/next/dir": "config_changed"]),
    PlanCase(
        name: "config-changed-signer",
        edits: ["example.net/web-ec": [("signing_ca = 'my-int'", "signing_ca = 'my-root'")]],
        state: { inSync(&$0) }, present: ["example.net/web-ec/next/dir": "issuer_changed"]),
    PlanCase(
        name: "ca-renewed-leaves-resigned",
        state: { b in
            inSync(&b)
            b.issue("ca/my-int", slot: "curr", at: T0 - 1 * day)
            b.syncEverything()
        }, present: ["example.com/mail-ec/next/dir": "issuer_changed", "example.net/web-ec/next/dir": "issuer_changed"]),
    PlanCase(
        name: "ca-rolls-in-this-run",
        state: { b in
            inSync(&b)
            b.issue("ca/my-int", slot: "next", at: T0 - 2 * day)
            b.syncEverything()
        }, present: ["ca/my-int/roll": "next_ready", "example.com/web-ec/next/cert": "issuer_changed"]),
    PlanCase(
        name: "production-file-edited",
        state: { b in
            inSync(&b)
            let address = StateBuilder.address("example.com/web-ec")
            b.production[address]?.curr?["cert.pem"] = StateBuilder.digest("edited by hand")
        }, present: ["example.com/web-ec/prod": "production_drift"]),
    PlanCase(
        name: "production-missing",
        state: { b in
            inSync(&b)
            b.production[StateBuilder.address("example.net/web-ec")] = nil
        }, present: ["example.net/web-ec/prod": "production_drift"]),
    PlanCase(
        name: "production-stale-next",
        state: { b in
            inSync(&b)
            let address = StateBuilder.address("example.com/web-ec")
            b.production[address]?.next = ["cert.pem": StateBuilder.digest("old next")]
        }, present: ["example.com/web-ec/prod": "production_drift"]),
    PlanCase(
        name: "production-ca-key-never-expected",
        state: { b in
            inSync(&b)
            let address = StateBuilder.address("ca/my-int")
            b.production[address]?.curr?["privkey.pem"] = StateBuilder.digest("a CA key in production")
        }, present: ["ca/my-int/prod": "production_drift"]),
    PlanCase(
        name: "tlsa-file-drift",
        state: { b in
            inSync(&b)
            b.tlsaFile["example.com"] = StateBuilder.digest("hand edited")
        },
        present: [
            "example.com/tlsa": "tlsa_drift", "example.com/tlsa/publish": "tlsa_drift",
            "example.com/prod": "tlsa_drift",
        ]),
    PlanCase(
        name: "tlsa-copy-drift",
        state: { b in
            inSync(&b)
            let dir = "/srv/sslm/dns/include-tlsa"
            b.tlsaCopies["example.com"] = [dir: StateBuilder.digest("old")]
        }, present: ["example.com/tlsa/publish": "tlsa_copy_drift"], absent: ["example.com/tlsa"]),
    PlanCase(
        name: "old-directories-cleaned",
        state: { b in
            inSync(&b)
            b.addOldDirectories("example.com/web-ec", count: 8, before: T0 - 20 * day)
        }, present: ["example.com/web-ec/clean": "old_directories"]),
    PlanCase(
        name: "old-directories-within-keep",
        state: { b in
            inSync(&b)
            b.addOldDirectories("example.com/web-ec", count: 5, before: T0 - 20 * day)
        }, empty: true),
    PlanCase(
        name: "service-removed-from-config",
        edits: ["ssl-mgr.conf": [("services = ['mail-ec', 'mail-rsa', 'web-ec']", "services = ['mail-ec', 'web-ec']")]],
        state: { b in
            inSync(&b, skip: ["example.com/mail-rsa"])
            b.unconfigured = [StateBuilder.address("example.com/mail-rsa")]
        }, notes: ["example.com/mail-rsa: unconfigured"], empty: true),
    PlanCase(
        name: "dns-facts-unavailable",
        state: { b in
            inSync(&b)
            b.tlsaNote["example.com"] =
                "DNS facts for example.com unavailable (timeout): kept the published TLSA owners mx1.example.com"
        }, notes: ["example.com: dns_facts_unavailable"], empty: true),
    PlanCase(
        name: "phase-renew-builds-no-roll", now: T0 + 55 * day, phase: .renew,
        state: { b in
            inSync(&b)
        }, present: ["example.com/mail-ec/next/dir": "renewal_due"], absent: ["example.com/mail-ec/roll"],
        notes: ["example.com/mail-ec: phase_skipped"]),
    PlanCase(
        name: "phase-roll-rolls-but-does-not-renew", now: T0 + 55 * day, phase: .roll,
        state: { b in
            inSync(&b)
            b.issue("example.com/web-ec", slot: "next", at: T0 + 54 * day)
            b.syncEverything()
        }, present: ["example.com/web-ec/roll": "next_ready"], absent: ["example.com/mail-ec/next/dir"],
        notes: ["example.com/mail-ec: phase_skipped"]),
    PlanCase(
        name: "force-renew-not-due", targets: ["example.com:web-ec"], force: true, state: { inSync(&$0) },
        present: ["example.com/web-ec/next/dir": "forced"], absent: ["example.com/mail-ec/next/dir"]),
    PlanCase(
        name: "force-roll-young-next", targets: ["example.com:mail-ec"], phase: .roll, force: true,
        state: { b in
            inSync(&b)
            b.issue("example.com/mail-ec", slot: "next", at: T0 - 1 * minute)
            b.syncEverything()
        }, present: ["example.com/mail-ec/roll": "forced"]),
    PlanCase(
        name: "reuse-key", now: T0 + 55 * day, targets: ["example.com:mail-ec"], reuseKey: true,
        state: { inSync(&$0) }, present: ["example.com/mail-ec/next/key": "renewal_due"]),
    PlanCase(
        name: "min-roll-mins-zero-builds-and-rolls", now: T0 + 55 * day, targets: ["example.com:web-ec"],
        minRollMinutes: 0, state: { inSync(&$0) },
        present: ["example.com/web-ec/next/dir": "renewal_due", "example.com/web-ec/roll": "next_ready"]),
    PlanCase(
        name: "roll-restarts-servers-before-dns", edits: serversConfig,
        state: { b in
            inSync(&b)
            b.issue("example.com/mail-ec", slot: "next", at: T0 - 2 * day)
            b.syncEverything()
        },
        present: [
            "example.com/mail-ec/roll": "next_ready", "server/mx1.example.com/copy": "servers_changed",
            "restart/smtp/mx1.example.com": "servers_changed", "restart/smtp/sslm-host": "servers_changed",
            "dns/refresh": "dns_changed",
        ],
        absent: ["server/sslm-host/copy", "restart/imap/mx1.example.com"]),
    PlanCase(
        name: "post-copy-after-the-copy-to-its-host",
        edits: serversConfig.merging(
            [
                "ssl-mgr.conf": (serversConfig["ssl-mgr.conf"] ?? []) + [
                    ("post_copy_cmd = []", "post_copy_cmd = [['mx1.example.com', '/usr/local/bin/fix-permissions']]")
                ]
            ]
        ) { _, new in new },
        state: { b in
            inSync(&b)
            b.issue("example.com/mail-ec", slot: "next", at: T0 - 2 * day)
            b.syncEverything()
        },
        present: [
            "server/mx1.example.com/copy": "servers_changed", "post_copy/mx1.example.com": "servers_changed",
            "restart/smtp/mx1.example.com": "servers_changed",
        ]),
    PlanCase(
        name: "targets-subset", now: T0 + 55 * day, targets: ["example.com:mail-ec,web-ec"], state: { inSync(&$0) },
        present: ["example.com/mail-ec/next/dir": "renewal_due", "example.com/web-ec/next/dir": "renewal_due"],
        absent: ["example.com/mail-rsa/next/dir", "example.net/web-ec/next/dir"]),
    PlanCase(
        name: "leaf-blocked-without-ca", targets: ["example.com:web-ec"], state: { _ in },
        absent: ["example.com/web-ec/next/dir"], notes: ["example.com/web-ec: blocked"], empty: true),
    PlanCase(
        name: "retry-failed-copy-and-restart", edits: serversConfig,
        state: { b in
            inSync(&b)
            b.pendingDeployment = ["server/mx1.example.com/copy", "restart/smtp/mx1.example.com", "dns/refresh"]
        },
        present: [
            "server/mx1.example.com/copy": "retry", "restart/smtp/mx1.example.com": "retry",
            "dns/refresh": "retry",
        ],
        absent: ["restart/smtp/sslm-host", "restart/imap/mx1.example.com", "example.com/mail-ec/prod"]),
    PlanCase(name: "nothing-pending-nothing-retried", edits: serversConfig, state: { inSync(&$0) }, empty: true),
    PlanCase(
        name: "production-leftover-of-interrupted-run",
        state: { b in
            inSync(&b)
            b.production[StateBuilder.address("example.com/web-ec")]?.leftovers = [".curr.new-1a2b3c"]
        }, present: ["example.com/web-ec/prod": "production_drift"]),
    // DANE publication lifecycle: the roll of a DANE service waits for its next records on every name server.
    PlanCase(
        name: "dane-roll-waits-for-lagging-secondary",
        state: { b in
            inSync(&b)
            b.issue("example.com/mail-ec", slot: "next", at: T0 - 3 * 60 * minute)
            b.syncEverything()
            var publication = b.publication("example.com")
            let nextKeys = Set(publication.records(service: "mail-ec", slot: "next")?.map(\.key) ?? [])
            if var servers = publication.servers {
                servers[1] = ServedTLSA(
                    server: servers[1].server, isPrimary: false, serial: 2_027_010_099,
                    records: servers[1].records.filter { !nextKeys.contains($0) }, failure: nil)
                publication.servers = servers
            }
            b.daneOverride["example.com"] = publication
        }, absent: ["example.com/mail-ec/roll", "example.com/tlsa"], notes: ["example.com/mail-ec: waiting_for_tlsa"],
        empty: true),
    PlanCase(
        name: "dane-roll-waits-primary-without-records",
        state: { b in
            inSync(&b)
            b.issue("example.com/mail-ec", slot: "next", at: T0 - 3 * 60 * minute)
            b.syncEverything()
            var publication = b.publication("example.com")
            let nextKeys = Set(publication.records(service: "mail-ec", slot: "next")?.map(\.key) ?? [])
            publication.servers = publication.servers?.map { server in
                ServedTLSA(
                    server: server.server, isPrimary: server.isPrimary, serial: server.serial,
                    records: server.records.filter { !nextKeys.contains($0) }, failure: nil)
            }
            b.daneOverride["example.com"] = publication
        }, absent: ["example.com/mail-ec/roll"], notes: ["example.com/mail-ec: waiting_for_tlsa"], empty: true),
    PlanCase(
        name: "dane-roll-waits-dns-not-observed",
        state: { b in
            inSync(&b)
            b.issue("example.com/mail-ec", slot: "next", at: T0 - 3 * 60 * minute)
            b.issue("example.com/web-ec", slot: "next", at: T0 - 3 * 60 * minute)
            b.syncEverything()
            b.daneObserved = false
        }, present: ["example.com/web-ec/roll": "next_ready"], absent: ["example.com/mail-ec/roll"],
        notes: ["example.com/mail-ec: waiting_for_tlsa"]),
    PlanCase(
        name: "dane-roll-stuck",
        state: { b in
            inSync(&b)
            b.issue("example.com/mail-ec", slot: "next", at: T0 - 2 * day)
            b.syncEverything()
            b.daneObserved = false
        }, absent: ["example.com/mail-ec/roll"], notes: ["example.com/mail-ec: roll_stuck"]),
    PlanCase(
        name: "dane-roll-deadline",
        state: { b in
            inSync(&b, leafAge: 88 * day)
            b.issue("example.com/mail-ec", slot: "next", at: T0 - 3 * day)
            b.syncEverything()
            b.daneObserved = false
        }, present: ["example.com/mail-ec/roll": "roll_deadline"]),
    PlanCase(
        name: "dane-roll-waits-two-ttl", minRollMinutes: 10,
        state: { b in
            inSync(&b)
            b.issue("example.com/mail-ec", slot: "next", at: T0 - 3 * 60 * minute)
            b.syncEverything()
            var publication = b.publication("example.com")
            for key in publication.records(service: "mail-ec", slot: "next")?.map(\.key) ?? [] {
                publication.firstSeen[key] = T0 - 40 * minute
            }
            b.daneOverride["example.com"] = publication
        }, absent: ["example.com/mail-ec/roll"], notes: ["example.com/mail-ec: waiting_for_tlsa"], empty: true),
    PlanCase(
        name: "dane-roll-after-two-ttl", minRollMinutes: 10,
        state: { b in
            inSync(&b)
            b.issue("example.com/mail-ec", slot: "next", at: T0 - 2 * day)
            b.syncEverything()
            var publication = b.publication("example.com")
            for key in publication.records(service: "mail-ec", slot: "next")?.map(\.key) ?? [] {
                publication.firstSeen[key] = T0 - 60 * minute
            }
            b.daneOverride["example.com"] = publication
        }, present: ["example.com/mail-ec/roll": "next_ready", "example.com/tlsa": "tlsa_changed"]),
    PlanCase(
        name: "dane-reuse-key-selector-1-rolls-at-once", now: T0 + 55 * day, targets: ["example.com:mail-ec"],
        reuseKey: true, state: { inSync(&$0) },
        present: ["example.com/mail-ec/next/key": "renewal_due", "example.com/mail-ec/roll": "next_ready"]),
    PlanCase(
        name: "dane-pending-next-same-key-rolls",
        state: { b in
            inSync(&b)
            b.issue("example.com/mail-ec", slot: "next", at: T0 - 10 * minute)
            let currKey = b.build().service(StateBuilder.address("example.com/mail-ec")).flatMap {
                $0.dbDir($0.curr)?.key
            }
            b.editDirectory("example.com/mail-ec", "next") { directory in
                directory.key = currKey
                if let spki = currKey?.spkiSHA256 {
                    directory.certificate?.spkiSHA256 = spki
                    directory.request?.spkiSHA256 = spki
                }
            }
            b.syncEverything()
        }, present: ["example.com/mail-ec/roll": "next_ready"]),
    PlanCase(
        name: "dane-first-activation-publishes-curr",
        edits: ["example.com/web-ec": [("dane_tls = []", "dane_tls = [[443, 'tcp', 3, 1, 1]]")]],
        state: { b in
            inSync(&b)
            b.tlsaExpected["example.com"] = StateBuilder.digest("curr records of mail-ec, mail-rsa and web-ec")
        },
        present: [
            "example.com/tlsa": "tlsa_drift", "example.com/tlsa/publish": "tlsa_drift",
            "example.com/prod": "tlsa_drift",
        ],
        absent: ["example.com/web-ec/roll", "example.com/web-ec/next/dir"]),
    PlanCase(
        name: "orphan-service-noted", edits: withoutWebEC, state: { b in orphaned(&b, ["example.com/web-ec"]) },
        absent: ["example.com/web-ec/retire"], notes: ["example.com/web-ec: orphaned"], empty: true),
    PlanCase(
        name: "orphan-service-retired", edits: withoutWebEC, retire: true,
        state: { b in orphaned(&b, ["example.com/web-ec"]) },
        present: ["example.com/web-ec/retire": "orphaned"], absent: ["example.com/tlsa", "example.com/tlsa/publish"]),
    PlanCase(
        name: "orphan-outside-targets-left-alone", edits: withoutWebEC, targets: ["example.net:ALL"], retire: true,
        state: { b in orphaned(&b, ["example.com/web-ec"]) }, absent: ["example.com/web-ec/retire"], empty: true),
    PlanCase(
        name: "orphan-group-retired-withdraws-tlsa", edits: withoutExampleCom, retire: true, revoke: true,
        state: { b in orphaned(&b, ["example.com/mail-ec", "example.com/mail-rsa", "example.com/web-ec"]) },
        present: [
            "example.com/mail-ec/retire": "orphaned", "example.com/mail-rsa/retire": "orphaned",
            "example.com/web-ec/retire": "orphaned", "example.com/tlsa": "orphaned",
            "example.com/tlsa/publish": "orphaned", "example.com/prod": "orphaned",
        ],
        notes: ["example.com/mail-ec: orphaned"]),
    PlanCase(
        name: "orphan-acme-issued-retire-revoke", edits: withoutWebEC, retire: true, revoke: true,
        state: { b in orphaned(&b, ["example.com/web-ec"], acme: true) },
        present: ["example.com/web-ec/retire": "orphaned"]),
    PlanCase(
        name: "orphan-already-revoked-not-revoked-again", edits: withoutWebEC, retire: true, revoke: true,
        state: { b in orphaned(&b, ["example.com/web-ec"], acme: true, revoked: true) },
        present: ["example.com/web-ec/retire": "orphaned"], notes: ["example.com/web-ec: orphaned"]),
]

/// The example without `example.com/web-ec` in its group (its service file stays, unread).
let withoutWebEC: [String: [(String, String)]] = [
    "ssl-mgr.conf": [("services = ['mail-ec', 'mail-rsa', 'web-ec']", "services = ['mail-ec', 'mail-rsa']")]
]

/// The example without the group `example.com`.
let withoutExampleCom: [String: [(String, String)]] = [
    "ssl-mgr.conf": [
        (
            "[[groups]]\n    domain = 'example.com'\n    services = ['mail-ec', 'mail-rsa', 'web-ec']\n    active = true",
            ""
        )
    ]
]

/// Everything in sync (issued with the unedited example), and `names` observed as orphans: their certs
/// directories and production copies stay while the edited config no longer has them. `acme`: curr was
/// ordered from the ACME CA `le-dns` (a ledger record; `revoked`: revoked the day before), else issued by
/// the local CA.
func orphaned(_ b: inout StateBuilder, _ names: [String], acme: Bool = false, revoked: Bool = false) {
    inSync(&b)
    for name in names {
        let address = StateBuilder.address(name)
        let curr = b.services[address].flatMap { $0.dbDir($0.curr)?.certificate }
        b.orphans.append(
            OrphanState(
                address: address, groupRemoved: names.count > 1, production: true, curr: curr,
                currIssuedLocally: !acme))
        if acme, let curr {
            b.certificateRecords[curr.certificateSHA256] = CertificateRecord(
                ca: "le-dns", directory: "https://acme-v02.api.letsencrypt.org/directory",
                account: ACMEIssuance.account,
                revoked: revoked ? CertificateRecord.Revocation(at: T0 - day, reason: "keyCompromise") : nil)
        }
    }
}
