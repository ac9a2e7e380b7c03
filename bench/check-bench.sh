#!/usr/bin/env bash
# Wall time of `sslm check` over N loopback TLS endpoints, one of them slow (Docs/PERFORMANCE.md "sslm check").
#
#   bench/check-bench.sh [--sslm PATH] [--endpoints 20] [--delay 2] [--runs 3] [--keep]
#
# Makes a topdir with the local CAs of conf.d.example and one service, bench.example/web (EC P-256, SANs
# bench.example and *.bench.example), applies it, then starts N servers of scripts/testbed/smtp-testbed on
# 127.0.0.1 serving its production curr: N - 1 speak TLS from the first byte, one speaks SMTP with STARTTLS
# and waits --delay seconds before its 220 greeting. The service gets
#   check_endpoints = ['h01.bench.example:443', …, 'hNN.bench.example:25']
# and `sslm check bench.example:web --connect hKK.bench.example=127.0.0.1:PORT …` is timed --runs times with
# the default --parallel (16) and once with --parallel 1 (one endpoint after another, as before). Each run
# must exit 0 and report every endpoint. Prints figures; asserts no time. Needs python3 and openssl.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
sslm="$root/.build/release/sslm"
endpoints=20
delay=2
runs=3
keep=no
while [ $# -gt 0 ]; do
    case "$1" in
        --sslm) sslm=$2; shift 2 ;;
        --endpoints) endpoints=$2; shift 2 ;;
        --delay) delay=$2; shift 2 ;;
        --runs) runs=$2; shift 2 ;;
        --keep) keep=yes; shift ;;
        *) echo "usage: $0 [--sslm PATH] [--endpoints N] [--delay SECONDS] [--runs N] [--keep]" >&2; exit 2 ;;
    esac
done
[ -x "$sslm" ] || { echo "no sslm at $sslm (swift build -c release --product sslm, or --sslm PATH)" >&2; exit 2; }
[[ "$endpoints" =~ ^[0-9]+$ ]] && ((endpoints >= 1 && endpoints <= 99)) || { echo "--endpoints: 1 to 99" >&2; exit 2; }
testbed="$root/scripts/testbed/smtp-testbed"
dir=$(mktemp -d /tmp/sslm-check-bench.XXXXXX)
topdir="$dir/topdir"
cleanup() {
    for server in "$dir"/server-*; do
        [ -d "$server" ] && "$testbed" stop "$server" >/dev/null 2>&1 || true
    done
    [ "$keep" = yes ] && echo "kept $dir" || rm -rf "$dir"
}
trap cleanup EXIT

mkdir -p "$topdir/conf.d/bench.example"
cp -r "$root/conf.d.example/ca" "$root/conf.d.example/ca-info.conf" "$topdir/conf.d/"
cat >"$topdir/conf.d/ssl-mgr.conf" <<EOF
[globals]
    prod_cert_dir = '$topdir/prod'
    logdir = '$topdir/logs'
    min_roll_mins = 0
    dns_xtra_ns = []
[[groups]]
    domain = 'ca'
    services = ['my-root', 'my-int']
    active = true
[[groups]]
    domain = 'bench.example'
    services = ['web']
    active = true
EOF
service="$topdir/conf.d/bench.example/web"
cat >"$service" <<EOF
name = 'check bench'
group = 'bench.example'
service = 'web'
signing_ca = 'my-int'
[KeyOpts]
    ktype = 'ec'
    ec_algo = 'secp256r1'
[X509]
    CN = 'bench.example'
    O = 'sslm bench'
    C = 'US'
    sans = ['bench.example', '*.bench.example']
EOF
"$sslm" apply --topdir "$topdir" >/dev/null
prod="$topdir/prod/bench.example/web/curr"

# The servers: the last one is the slow STARTTLS one.
entries=()
connect=()
for ((i = 1; i <= endpoints; i++)); do
    host=$(printf 'h%02d.bench.example' "$i")
    args=(start "$dir/server-$i" --cert "$prod/cert.pem" --key "$prod/privkey.pem" --chain "$prod/chain.pem")
    if ((i == endpoints)); then
        args+=(--delay "$delay")
        entries+=("'$host:25'")
    else
        args+=(--implicit-tls)
        entries+=("'$host:443'")
    fi
    address=$("$testbed" "${args[@]}" | sed -n 's/^SMTP_ADDRESS=//p')
    connect+=(--connect "$host=$address")
done
list=$(IFS=,; echo "${entries[*]}")
# A top-level key: before the first table.
sed -i "s/^signing_ca = 'my-int'$/signing_ca = 'my-int'\ncheck_endpoints = [${list//,/, }]/" "$service"
"$sslm" config check --topdir "$topdir" >/dev/null

measure() {  # label, extra arguments → one line of figures
    local label=$1 start end output status
    shift
    start=$(date +%s.%N)
    set +e
    output=$("$sslm" check bench.example:web --topdir "$topdir" "${connect[@]}" "$@")
    status=$?
    set -e
    end=$(date +%s.%N)
    if [ "$status" -ne 0 ] || ! grep -q "^check: OK ($endpoints endpoints)" <<<"$output"; then
        echo "$output" >&2
        echo "sslm check failed (exit $status)" >&2
        exit 1
    fi
    printf '%-28s %6.2f s\n' "$label" "$(echo "$end - $start" | bc -l)"
}

echo "sslm: $sslm"
echo "endpoints: $endpoints on 127.0.0.1 ($((endpoints - 1)) TLS, 1 STARTTLS smtp with a ${delay} s greeting delay)"
echo "command: sslm check bench.example:web --topdir T --connect hNN.bench.example=127.0.0.1:PORT … [--parallel N]"
for ((run = 1; run <= runs; run++)); do
    measure "--parallel 16 (default), run $run"
done
measure "--parallel 1 (sequential)" --parallel 1
