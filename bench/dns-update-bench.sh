#!/usr/bin/env bash
# dns-01 through RFC 2136: sslm's one-UPDATE-per-zone batch, sslm's include-file path, and certbot's rfc2136
# plugin, on the same N certificates of K names (alternating example.com / example.net), each against its own
# fresh pebble (PEBBLE_VA_NOSLEEP=1, PEBBLE_AUTHZREUSE=0) resolving through the DNS server under test. Prints
# wall time, user + system CPU (GNU time) and the UPDATE messages the server processed. Asserts nothing about
# time. Figures in Docs/PERFORMANCE.md ("dns-01 through RFC 2136").
#
# usage: bench/dns-update-bench.sh [--certs 20] [--names 3] [--sslm BIN] [--skip-certbot] [--keep]
#   sslm rfc2136   one `sslm apply` over N services, [[dns_primary]] update = 'rfc2136' → Knot (knot-testbed:
#                  a signing primary and an IXFR secondary, both checked for propagation); then the same with
#                  only the primary checked
#   sslm include   one `sslm apply`, include files + [dns] restart_cmd → nsd (dns-testbed, ldns-signzone)
#   certbot        N × `certbot certonly --dns-rfc2136` → Knot (another knot-testbed),
#                  --dns-rfc2136-propagation-seconds 1 (its minimum useful wait)
# Needs: knot, nsd, ldnsutils, pebble, dnsutils, bind9-utils, time; certbot + python3-certbot-dns-rfc2136.
set -euo pipefail

certs=20 names=3 sslm="" skip_certbot=0 keep=0
while (($#)); do
    case "$1" in
        --certs) certs=${2:?}; shift 2 ;;
        --names) names=${2:?}; shift 2 ;;
        --sslm) sslm=${2:?}; shift 2 ;;
        --skip-certbot) skip_certbot=1; shift ;;
        --keep) keep=1; shift ;;
        *) echo "dns-update-bench: unknown argument $1" >&2; exit 64 ;;
    esac
done
here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd -- "$here/.." && pwd)
tb="$repo/scripts/testbed"
[[ -n "$sslm" ]] || sslm="$repo/.build/release/sslm"
[[ -x "$sslm" ]] || { echo "dns-update-bench: $sslm is not built (or give --sslm BIN)" >&2; exit 1; }
work=$(mktemp -d /tmp/dns-update-bench.XXXXXX)
beds=()
cleanup() {
    local entry
    for entry in "${beds[@]}"; do "$tb/${entry%%:*}" stop "${entry#*:}" >/dev/null 2>&1 || true; done
    ((keep)) && echo "kept $work" >&2 || rm -rf -- "$work"
}
trap cleanup EXIT
env_get() { sed -n "s/^$2=//p" "$1" | tail -n 1; }
measure() {  # measure LABEL CMD… → one result line
    local label=$1
    shift
    /usr/bin/time -f '%e %U %S' -o "$work/time.$label" "$@" >"$work/out.$label" 2>&1 \
        || { echo "dns-update-bench: $label failed, see $work/out.$label" >&2; keep=1; exit 1; }
    read -r wall user sys <"$work/time.$label"
    printf '%s wall %ss cpu %ss' "$label" "$wall" "$(echo "$user + $sys" | bc)"
}
services_conf() {  # TOPDIR PEBBLE_DIR → groups, ca-info, services
    local topdir=$1 pdir=$2 i apex list_com="" list_net=""
    for ((i = 0; i < certs; i++)); do
        if ((i % 2 == 0)); then apex=example.com; list_com+="'c$i', "; else apex=example.net; list_net+="'c$i', "; fi
        local sans="'c$i.$apex'" n
        for ((n = 1; n < names; n++)); do sans+=", 'c${i}x$n.$apex'"; done
        mkdir -p "$topdir/conf.d/$apex"
        printf "name = 'c%s'\ngroup = '%s'\nservice = 'c%s'\nsigning_ca = 'pebble-dns'\n[KeyOpts]\n    ktype = 'ec'\n    ec_algo = 'secp256r1'\n[X509]\n    CN = 'c%s.%s'\n    O = 'bench'\n    C = 'US'\n    email = 'hostmaster@%s'\n    sans = [%s]\n" \
            "$i" "$apex" "$i" "$i" "$apex" "$apex" "$sans" >"$topdir/conf.d/$apex/c$i"
    done
    printf "[[groups]]\n    domain = 'example.com'\n    services = [%s]\n    active = true\n\n[[groups]]\n    domain = 'example.net'\n    services = [%s]\n    active = true\n\n" \
        "${list_com%, }" "${list_net%, }" >>"$topdir/conf.d/ssl-mgr.conf"
    printf "[pebble-dns]\n    ca_desc = 'pebble'\n    ca_type = 'acme'\n    ca_validation = 'dns-01'\n    ca_directory_url = '%s'\n    ca_trust_file = '%s'\n" \
        "$(env_get "$pdir/env" PEBBLE_DIRECTORY)" "$(env_get "$pdir/env" PEBBLE_TRUST)" >"$topdir/conf.d/ca-info.conf"
}
globals() {  # TOPDIR
    mkdir -p "$1/conf.d"
    printf "[globals]\n    prod_cert_dir = '%s/prod'\n    logdir = '%s/logs'\n    min_roll_mins = 0\n    dns_check_delay = 0\n    dns_xtra_ns = []\n\n" \
        "$1" "$1" >"$1/conf.d/ssl-mgr.conf"
}
start_pebble() {  # NAME DNS
    PEBBLE_VA_NOSLEEP=1 PEBBLE_AUTHZREUSE=0 "$tb/pebble-testbed" start "$work/$1" --dns "$2" >/dev/null
    beds+=("pebble-testbed:$work/$1")
}

echo "# dns-update-bench: $certs certificates × $names names, $(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg)"

# sslm, RFC 2136 to Knot
"$tb/knot-testbed" start "$work/knot" >/dev/null
beds+=("knot-testbed:$work/knot")
start_pebble pebble1 "$(env_get "$work/knot/env" KNOT_PRIMARY)"
t="$work/rfc2136"
globals "$t"
kp=$(env_get "$work/knot/env" KNOT_PRIMARY_PORT)
printf "[[dns_primary]]\n    domain = 'default'\n    server = '127.0.0.1'\n    port = %s\n    update = 'rfc2136'\n    tsig_key_file = '%s'\n\n[[dns_nameservers]]\n    domain = 'default'\n    servers = ['127.0.0.1:%s', '%s']\n\n" \
    "$kp" "$(env_get "$work/knot/env" KNOT_KEY_FILE)" "$kp" "$(env_get "$work/knot/env" KNOT_SECONDARY)" >>"$t/conf.d/ssl-mgr.conf"
services_conf "$t" "$work/pebble1"
before=$("$tb/knot-testbed" updates "$work/knot")
measure "sslm-rfc2136" "$sslm" apply --topdir "$t" --dns-timeout 60
echo " updates $(($("$tb/knot-testbed" updates "$work/knot") - before))"

# the same, propagation checked at the primary only (what the UPDATE path costs without Knot's transfer to
# its secondary)
t="$work/rfc2136-primary"
globals "$t"
printf "[[dns_primary]]\n    domain = 'default'\n    server = '127.0.0.1'\n    port = %s\n    update = 'rfc2136'\n    tsig_key_file = '%s'\n\n[[dns_nameservers]]\n    domain = 'default'\n    servers = ['127.0.0.1:%s']\n\n" \
    "$kp" "$(env_get "$work/knot/env" KNOT_KEY_FILE)" "$kp" >>"$t/conf.d/ssl-mgr.conf"
services_conf "$t" "$work/pebble1"
before=$("$tb/knot-testbed" updates "$work/knot")
measure "sslm-rfc2136-primary-only" "$sslm" apply --topdir "$t" --dns-timeout 60
echo " updates $(($("$tb/knot-testbed" updates "$work/knot") - before))"

# sslm, include files to nsd
"$tb/dns-testbed" start "$work/nsd" --zones example.com,example.net >/dev/null
beds+=("dns-testbed:$work/nsd")
start_pebble pebble2 "$(env_get "$work/nsd/env" DNS_PRIMARY)"
t="$work/include"
globals "$t"
np=$(env_get "$work/nsd/env" DNS_PRIMARY_PORT)
printf "[[dns_primary]]\n    domain = 'default'\n    server = '127.0.0.1'\n    port = %s\n\n[[dns_nameservers]]\n    domain = 'default'\n    servers = ['%s', '%s']\n\n[dns]\n    restart_cmd = ['%s --testbed %s']\n    acme_dir = '%s'\n    depends = ['dns']\n\n" \
    "${np:-$(env_get "$work/nsd/env" DNS_PRIMARY | sed 's/.*://')}" "$(env_get "$work/nsd/env" DNS_PRIMARY)" \
    "$(env_get "$work/nsd/env" DNS_SECONDARY)" "$(env_get "$work/nsd/env" DNS_REFRESH)" "$work/nsd" \
    "$(env_get "$work/nsd/env" DNS_ACME_DIR)" >>"$t/conf.d/ssl-mgr.conf"
services_conf "$t" "$work/pebble2"
measure "sslm-include" "$sslm" apply --topdir "$t" --dns-timeout 60
echo " refreshes $(wc -l <"$work/nsd/refresh.log" 2>/dev/null || echo 0)"

# certbot --dns-rfc2136 to another Knot
if ((!skip_certbot)); then
    "$tb/knot-testbed" start "$work/knot2" >/dev/null
    beds+=("knot-testbed:$work/knot2")
    start_pebble pebble3 "$(env_get "$work/knot2/env" KNOT_PRIMARY)"
    creds="$work/rfc2136.ini"
    printf 'dns_rfc2136_server = 127.0.0.1\ndns_rfc2136_port = %s\ndns_rfc2136_name = %s\ndns_rfc2136_secret = %s\ndns_rfc2136_algorithm = HMAC-SHA256\n' \
        "$(env_get "$work/knot2/env" KNOT_PRIMARY_PORT)" "$(env_get "$work/knot2/env" KNOT_KEY_NAME)" \
        "$(sed -n 's/.*secret "\([^"]*\)".*/\1/p' "$(env_get "$work/knot2/env" KNOT_KEY_FILE)")" >"$creds"
    chmod 600 "$creds"
    cat >"$work/certbot-all" <<SCRIPT
#!/usr/bin/env bash
set -euo pipefail
export REQUESTS_CA_BUNDLE='$(env_get "$work/pebble3/env" PEBBLE_TRUST)'
for ((i = 0; i < $certs; i++)); do
    if ((i % 2 == 0)); then apex=example.com; else apex=example.net; fi
    domains=(-d "c\$i.\$apex")
    for ((n = 1; n < $names; n++)); do domains+=(-d "c\${i}x\$n.\$apex"); done
    certbot certonly --non-interactive --agree-tos -m bench@example.com --no-eff-email \\
        --server '$(env_get "$work/pebble3/env" PEBBLE_DIRECTORY)' --config-dir '$work/certbot/config' \\
        --work-dir '$work/certbot/work' --logs-dir '$work/certbot/logs' --key-type ecdsa --elliptic-curve secp256r1 \\
        --dns-rfc2136 --dns-rfc2136-credentials '$creds' --dns-rfc2136-propagation-seconds 1 "\${domains[@]}"
done
SCRIPT
    chmod +x "$work/certbot-all"
    before=$("$tb/knot-testbed" updates "$work/knot2")
    measure "certbot-rfc2136" "$work/certbot-all"
    echo " updates $(($("$tb/knot-testbed" updates "$work/knot2") - before))"
fi
