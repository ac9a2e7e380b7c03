#!/usr/bin/env bash
# ACME issuance: sslm against certbot, same run, same local pebble. Issues N certificates of K names each with
# http-01, then with dns-01 across the two apex domains example.com and example.net; prints wall time, CPU
# (user + system), peak RSS and the number of DNS zone refreshes per run. Asserts nothing about time (the
# issue's target, sslm ≤ 1/10 of certbot's wall time and one refresh per apex for dns-01, is printed as a
# check). See bench/acme/README.md; figures in Docs/PERFORMANCE.md.
#
# usage: bench/acme/acme-bench.sh [--certs 20] [--names 3] [--skip-certbot] [--skip-sslm] [--out DIR]
#                                 [--sslm BIN] [--testbed-scripts DIR] [--work DIR] [--keep] [--timeout SECONDS]
#   --certs            certificates per run (default 20); they alternate between example.com and example.net
#   --names            names per certificate (default 3): cNN.<apex>, a.cNN.<apex>, b.cNN.<apex>, …
#   --skip-certbot     measure sslm only        --skip-sslm   measure certbot only
#   --out              directory of the markdown report (default bench/acme/results/, not committed); the
#                      report is <out>/acme-bench-<UTC time>.md
#   --sslm             the sslm binary (default: .build/release/sslm of this repository)
#   --testbed-scripts  where dns-testbed, dns-refresh, web-testbed and pebble-testbed are (default
#                      scripts/testbed of this repository). Without pebble-testbed, bench/acme/lib/pebble-standin
#                      starts pebble the same way (the report says which).
#   --work             working directory (default: a new mktemp -d under /tmp, removed at the end unless --keep)
#   --timeout          limit of one certbot run, and of one sslm apply × certs/4 (default 120 s)
#
# Runs, in this order, against one pebble (PEBBLE_VA_NOSLEEP=1, PEBBLE_AUTHZREUSE=0, fresh account each):
#   certbot http-01  N × `certbot certonly --webroot`, one after the other (certbot has no batch mode)
#   certbot dns-01   N × `certbot certonly --manual` with bench/acme/certbot-dns-hook: one zone refresh per
#                    hook call, as a certbot user with an $INCLUDEd challenge file does
#   sslm http-01     one `sslm apply --topdir T` over N services (CA pebble, ca_validation = 'http-01')
#   sslm dns-01      the same with ca_validation = 'dns-01' ([dns] restart_cmd = dns-refresh)
# Each run is measured as a whole by GNU time -v (wall, user + system of all processes it waited for, the
# largest single process's peak RSS). Refreshes = new lines in the DNS test bed's refresh.log (one per
# dns-refresh invocation), also per apex. pebble's own CPU (from /proc) is shown separately. Every
# certificate is checked afterwards (file exists, issuer pebble, all names in the SAN), so a run that issues
# nothing cannot look fast. Needs: certbot, pebble, nsd, ldnsutils, dnsutils, nginx, openssl, curl, time.
set -euo pipefail

certs=20
names=3
skip_certbot=0
skip_sslm=0
out=""
sslm=""
tb=""
work=""
keep=0
timeout_s=120
argv=("$@")

die() { printf 'acme-bench: %s\n' "$*" >&2; exit 1; }
note() { printf 'acme-bench: %s\n' "$*" >&2; }

while (($# > 0)); do
    case "$1" in
        --certs) certs="${2:?--certs needs a value}"; shift 2 ;;
        --names) names="${2:?--names needs a value}"; shift 2 ;;
        --skip-certbot) skip_certbot=1; shift ;;
        --skip-sslm) skip_sslm=1; shift ;;
        --out) out="${2:?--out needs a directory}"; shift 2 ;;
        --sslm) sslm="${2:?--sslm needs a path}"; shift 2 ;;
        --testbed-scripts) tb="${2:?--testbed-scripts needs a directory}"; shift 2 ;;
        --work) work="${2:?--work needs a directory}"; shift 2 ;;
        --keep) keep=1; shift ;;
        --timeout) timeout_s="${2:?--timeout needs seconds}"; shift 2 ;;
        -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) printf 'acme-bench: unknown argument: %s (see --help)\n' "$1" >&2; exit 64 ;;
    esac
done
[[ "$certs" =~ ^[1-9][0-9]*$ ]] && ((certs <= 99)) || die "--certs: expected 1–99"
[[ "$names" =~ ^[1-9][0-9]*$ ]] && ((names <= 27)) || die "--names: expected 1–27"
[[ "$timeout_s" =~ ^[1-9][0-9]*$ ]] || die "--timeout: expected a positive number of seconds"
((skip_certbot && skip_sslm)) && die "--skip-certbot and --skip-sslm: nothing to measure"

here="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd -- "$here/../.." && pwd)"
[[ -n "$tb" ]] || tb="$repo/scripts/testbed"
tb="$(cd -- "$tb" 2>/dev/null && pwd)" || die "--testbed-scripts: no such directory"
for s in dns-testbed dns-refresh web-testbed; do
    [[ -x "$tb/$s" ]] || die "$tb/$s is missing (the test bed scripts; give --testbed-scripts DIR)"
done
pebble_script="$tb/pebble-testbed"
pebble_kind="scripts/testbed/pebble-testbed"
if [[ ! -x "$pebble_script" ]]; then
    pebble_script="$here/lib/pebble-standin"
    pebble_kind="bench/acme/lib/pebble-standin (no pebble-testbed in $tb)"
    note "no $tb/pebble-testbed: pebble is started by $pebble_script"
fi

tools=(pebble nsd dig openssl curl timeout flock)
((skip_certbot)) || tools+=(certbot)
for t in "${tools[@]}"; do command -v "$t" >/dev/null || die "$t is missing (see --help for the packages)"; done
[[ -x /usr/bin/time ]] || die "/usr/bin/time is missing: apt-get install time"
if ((!skip_sslm)); then
    [[ -n "$sslm" ]] || sslm="$repo/.build/release/sslm"
    [[ -x "$sslm" ]] || die "$sslm is not built (swift build -c release --product sslm), or give --sslm BIN / --skip-sslm"
    sslm="$(cd -- "$(dirname -- "$sslm")" && pwd)/$(basename -- "$sslm")"
fi

if [[ -z "$work" ]]; then
    work="$(mktemp -d /tmp/acme-bench.XXXXXX)"
else
    mkdir -p -- "$work"
    work="$(cd -- "$work" && pwd)"
    [[ -z "$(ls -A -- "$work")" ]] || die "--work $work is not empty"
fi
[[ "$work" =~ ^[A-Za-z0-9._/+-]+$ ]] || die "the work directory $work must consist of letters, digits and ._/+-"

started_web=0 started_pebble=0 started_dns=0
cleanup() {
    local status=$?
    trap - EXIT INT TERM
    ((started_web)) && { "$tb/web-testbed" stop "$work/web" >/dev/null 2>&1 || true; }
    ((started_pebble)) && { "$pebble_script" stop "$work/pebble" >/dev/null 2>&1 || true; }
    ((started_dns)) && { "$tb/dns-testbed" stop "$work/dns" >/dev/null 2>&1 || true; }
    if ((keep || status != 0)); then
        note "kept $work"
    else
        rm -rf -- "$work"
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

env_get() {  # env_get FILE KEY → the value (KEY=value lines)
    sed -n "s/^$2=//p" "$1" | tail -n 1
}

# ---------------------------------------------------------------------------------------------------------------
# Test bed: DNS (signed nsd primary + secondary), pebble resolving through the primary, nginx on pebble's
# http-01 port.
note "work directory $work"
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
started_dns=1
timeout 60 "$tb/dns-testbed" start "$work/dns" --zones example.com,example.net >/dev/null
dns_env="$work/dns/env"
dns_primary=$(env_get "$dns_env" DNS_PRIMARY)
dns_secondary=$(env_get "$dns_env" DNS_SECONDARY)
dns_acme_dir=$(env_get "$dns_env" DNS_ACME_DIR)
dns_refresh=$(env_get "$dns_env" DNS_REFRESH)
refresh_log="$work/dns/refresh.log"
[[ "$dns_primary" == 127.0.0.1:* && "$dns_secondary" == 127.0.0.1:* && -d "$dns_acme_dir" && -x "$dns_refresh" ]] \
    || die "the DNS test bed's env ($dns_env) lacks DNS_PRIMARY, DNS_SECONDARY, DNS_ACME_DIR or DNS_REFRESH"
dns_port=${dns_primary##*:}
dns_secondary_port=${dns_secondary##*:}

started_pebble=1
PEBBLE_VA_NOSLEEP=1 PEBBLE_AUTHZREUSE=0 timeout 60 "$pebble_script" start "$work/pebble" --dns "$dns_primary" >/dev/null
pebble_env="$work/pebble/env"
pebble_dir=$(env_get "$pebble_env" PEBBLE_DIRECTORY)
pebble_trust=$(env_get "$pebble_env" PEBBLE_TRUST)
pebble_pid=$(env_get "$pebble_env" PEBBLE_PID)
http_port=$(env_get "$pebble_env" PEBBLE_HTTP_PORT)
[[ "$pebble_dir" == https://127.0.0.1:* && -f "$pebble_trust" && "$http_port" =~ ^[0-9]+$ ]] \
    || die "pebble's env ($pebble_env) lacks PEBBLE_DIRECTORY, PEBBLE_TRUST or PEBBLE_HTTP_PORT"

webroot="$work/webroot"
mkdir -p "$webroot/example.com" "$webroot/example.net"
started_web=1
timeout 60 "$tb/web-testbed" start "$work/web" --port "$http_port" --webroot "$webroot" >/dev/null
note "DNS primary $dns_primary, secondary $dns_secondary; pebble $pebble_dir (http-01 port $http_port)"

# The certificates: `<apex> <name>…` per line, alternating apexes; every name resolves to 127.0.0.1 in the test
# bed (cNN and *.cNN records, and the zone wildcard beyond c20).
list="$work/certs.txt"
letters=(a b c d e f g h i j k l m n o p q r s t u v w x y z)
for ((i = 1; i <= certs; i++)); do
    if ((i % 2)); then apex=example.com; else apex=example.net; fi
    label=$(printf 'c%02d' "$i")
    line="$apex $label.$apex"
    for ((j = 0; j < names - 1; j++)); do line+=" ${letters[j]}.$label.$apex"; done
    printf '%s\n' "$line"
done >"$list"

# ---------------------------------------------------------------------------------------------------------------
# sslm topdirs

write_topdir() {  # write_topdir DIR CHALLENGE
    local t=$1 challenge=$2 apex label sans n group_com=() group_net=()
    mkdir -p "$t/conf.d/example.com" "$t/conf.d/example.net"
    cat >"$t/conf.d/ca-info.conf" <<EOF
[pebble]
    ca_desc = 'local pebble (bench/acme)'
    ca_type = 'acme'
    ca_validation = '${challenge}'
    ca_directory_url = '${pebble_dir}'
    ca_trust_file = '${pebble_trust}'
EOF
    while read -r apex n sans; do
        label=${n%%.*}
        if [[ "$apex" == example.com ]]; then group_com+=("'$label'"); else group_net+=("'$label'"); fi
        local quoted="'$n'" s
        for s in $sans; do quoted+=", '$s'"; done
        cat >"$t/conf.d/$apex/$label" <<EOF
name = 'bench ${n}'
group = '${apex}'
service = '${label}'
signing_ca = 'pebble'

[KeyOpts]
    ktype = 'ec'
    ec_algo = 'secp256r1'

[X509]
    CN = '${n}'
    O = 'Bench'
    C = 'US'
    email = 'bench@example.com'
    sans = [${quoted}]
EOF
    done <"$list"
    {
        cat <<EOF
[globals]
    prod_cert_dir = '${t}/prod'
    logdir = '${t}/logs'
    min_roll_mins = 0
    dns_check_delay = 0
    dns_xtra_ns = []

EOF
        if ((${#group_com[@]})); then
            printf "[[groups]]\n    domain = 'example.com'\n    services = [%s]\n    active = true\n\n" \
                "$(IFS=,; printf '%s' "${group_com[*]}")"
        fi
        if ((${#group_net[@]})); then
            printf "[[groups]]\n    domain = 'example.net'\n    services = [%s]\n    active = true\n\n" \
                "$(IFS=,; printf '%s' "${group_net[*]}")"
        fi
        # restart_cmd: one string is one command (a list would be several commands); sslm appends
        # `--serial_bump <apex>…`.
        cat <<EOF
[[dns_primary]]
    domain = 'default'
    server = '127.0.0.1'
    port = ${dns_port}

[[dns_nameservers]]
    domain = 'default'
    servers = ['${dns_primary}', '${dns_secondary}']

[dns]
    restart_cmd = '${dns_refresh} --testbed ${work}/dns'
    acme_dir = '${dns_acme_dir}'
    depends = ['dns']

[web]
    servers = []
    server_dir = '${webroot}'
EOF
    } >"$t/conf.d/ssl-mgr.conf"
}

if ((!skip_sslm)); then
    for challenge in http-01 dns-01; do
        t="$work/sslm-${challenge}"
        write_topdir "$t" "$challenge"
        if ! "$sslm" config check --topdir "$t" >"$t.check" 2>&1; then
            cat "$t.check" >&2
            die "sslm config check rejects the generated topdir $t"
        fi
    done
fi

# ---------------------------------------------------------------------------------------------------------------
# Measuring

refresh_lines() { [[ -f "$refresh_log" ]] && wc -l <"$refresh_log" || echo 0; }
pebble_ticks() {  # utime + stime of pebble, in clock ticks (0 when not readable)
    [[ -r "/proc/$pebble_pid/stat" ]] || { echo 0; return; }
    sed 's/.*) //' "/proc/$pebble_pid/stat" | awk '{print $12 + $13}'
}
hz=$(getconf CLK_TCK)

declare -A row_wall row_cpu row_rss row_refresh row_pebble row_ok row_apex
runs=()
# measure NAME -- COMMAND…: times COMMAND (output to $work/<NAME with - for spaces>.out) and records its figures.
measure() {
    local name=$1 lines0 lines1 ticks0 ticks1 status=0 slug tfile
    slug=${name// /-}
    tfile="$work/$slug.time"
    shift 2
    lines0=$(refresh_lines)
    ticks0=$(pebble_ticks)
    note "$name: $*"
    /usr/bin/time -v -o "$tfile" "$@" >"$work/$slug.out" 2>&1 || status=$?
    ticks1=$(pebble_ticks)
    lines1=$(refresh_lines)
    if ((status != 0)); then
        tail -n 40 "$work/$slug.out" >&2
        die "$name failed (exit $status); output in $work/$slug.out"
    fi
    local elapsed user sys rss
    elapsed=$(sed -n 's/^.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$tfile" \
        | awk -F: '{s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; printf "%.2f", s}')
    user=$(sed -n 's/^[[:space:]]*User time (seconds): //p' "$tfile")
    sys=$(sed -n 's/^[[:space:]]*System time (seconds): //p' "$tfile")
    rss=$(sed -n 's/^[[:space:]]*Maximum resident set size (kbytes): //p' "$tfile")
    row_wall[$name]=$elapsed
    row_cpu[$name]=$(awk -v u="$user" -v s="$sys" 'BEGIN {printf "%.2f", u + s}')
    row_rss[$name]=$(awk -v k="$rss" 'BEGIN {printf "%.1f", k / 1024}')
    row_pebble[$name]=$(awk -v a="$ticks0" -v b="$ticks1" -v hz="$hz" 'BEGIN {printf "%.2f", (b - a) / hz}')
    local new
    new=$(sed -n "$((lines0 + 1)),${lines1}p" "$refresh_log" 2>/dev/null || true)
    row_refresh[$name]=$((lines1 - lines0))
    row_apex[$name]="$(grep -c ' example\.com=' <<<"$new" || true)/$(grep -c ' example\.net=' <<<"$new" || true)"
    runs+=("$name")
}

# verify NAME KIND DIR: every certificate of the list exists, is pebble's and carries all its names.
subjects=()
failed=0
verify() {
    local name=$1 kind=$2 dir=$3 apex first rest ok=0 cert sanline n missing
    while read -r apex first rest; do
        label=${first%%.*}
        case "$kind" in
            certbot) cert="$dir/config/live/$first/cert.pem" ;;
            sslm) cert="$dir/certs/$apex/$label/curr/cert.pem" ;;
        esac
        [[ -f "$cert" ]] || { note "$name: missing $cert"; continue; }
        openssl x509 -noout -issuer -in "$cert" 2>/dev/null | grep -qi pebble \
            || { note "$name: $cert is not issued by pebble"; continue; }
        sanline=$(openssl x509 -noout -ext subjectAltName -in "$cert" 2>/dev/null | tr -d ' \n')
        missing=0
        for n in $first $rest; do [[ ",${sanline#*:}," == *",DNS:$n,"* ]] || missing=1; done
        ((missing)) && { note "$name: $cert lacks some of $first $rest in its SAN ($sanline)"; continue; }
        ((ok > 0)) || subjects+=("$name: $(openssl x509 -noout -subject -issuer -in "$cert" | tr '\n' ';' | sed 's/;$//; s/;/; /g')")
        ok=$((ok + 1))
    done <"$list"
    row_ok[$name]=$ok
    if ((ok != certs)); then
        note "$name: only $ok of $certs certificates are there and valid: FAILED (its figures mean nothing)"
        row_ok[$name]="$ok of $certs: FAILED"
        failed=1
    fi
}

export BENCH_DNS_DIR="$work/dns" BENCH_DNS_REFRESH="$dns_refresh" BENCH_DNS_ACME_DIR="$dns_acme_dir" \
    BENCH_DNS_PRIMARY_PORT="$dns_port"
sslm_timeout=$((timeout_s * (certs + 3) / 4))

if ((!skip_certbot)); then
    measure "certbot http-01" -- "$here/certbot-batch" --challenge http-01 --list "$list" --server "$pebble_dir" \
        --trust "$pebble_trust" --base "$work/certbot-http-01" --webroot "$webroot" --timeout "$timeout_s"
    verify "certbot http-01" certbot "$work/certbot-http-01"
    measure "certbot dns-01" -- "$here/certbot-batch" --challenge dns-01 --list "$list" --server "$pebble_dir" \
        --trust "$pebble_trust" --base "$work/certbot-dns-01" --timeout "$timeout_s"
    verify "certbot dns-01" certbot "$work/certbot-dns-01"
fi
if ((!skip_sslm)); then
    for challenge in http-01 dns-01; do
        measure "sslm $challenge" -- timeout "$sslm_timeout" "$sslm" apply --topdir "$work/sslm-$challenge"
        verify "sslm $challenge" sslm "$work/sslm-$challenge"
    done
fi

# ---------------------------------------------------------------------------------------------------------------
# Report

ratio() {  # ratio NAME → sslm wall / certbot wall of the same challenge, or "1.00" for certbot rows
    local name=$1 challenge=${1#* } base
    base=${row_wall["certbot $challenge"]:-}
    if [[ "${row_ok[$name]}" == *FAILED* || "${row_ok["certbot $challenge"]:-}" == *FAILED* ]]; then echo "–"
    elif [[ "$name" == certbot* ]]; then echo "1.00"
    elif [[ -n "$base" ]]; then awk -v a="${row_wall[$name]}" -v b="$base" 'BEGIN {printf "%.3f (1/%.1f)", a / b, b / a}'
    else echo "–"
    fi
}

table() {
    printf '| tool | challenge | certs | wall s | CPU s | peak RSS MB | refreshes (com/net) | s/cert | wall vs certbot | pebble CPU s |\n'
    printf '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n'
    local name
    for name in "${runs[@]}"; do
        printf '| %s | %s | %s | %s | %s | %s | %s (%s) | %s | %s | %s |\n' "${name%% *}" "${name#* }" \
            "${row_ok[$name]}" "${row_wall[$name]}" "${row_cpu[$name]}" "${row_rss[$name]}" \
            "${row_refresh[$name]}" "${row_apex[$name]}" \
            "$(awk -v w="${row_wall[$name]}" -v n="$certs" 'BEGIN {printf "%.3f", w / n}')" \
            "$(ratio "$name")" "${row_pebble[$name]}"
    done
}

usable() { [[ -n "${row_wall["$1"]:-}" && "${row_ok["$1"]}" != *FAILED* ]]; }

checks() {
    local challenge
    for challenge in http-01 dns-01; do
        if [[ -n "${row_wall["sslm $challenge"]:-}" ]] && ! usable "sslm $challenge"; then
            printf -- '- %s: sslm did not issue all certificates: no figures\n' "$challenge"
        elif usable "sslm $challenge" && usable "certbot $challenge"; then
            awk -v c="$challenge" -v a="${row_wall["sslm $challenge"]}" -v b="${row_wall["certbot $challenge"]}" \
                'BEGIN {printf "- %s: sslm wall ≤ 1/10 of certbot'"'"'s: %s\n", c, (a * 10 <= b) ? "yes" : "NO"}'
        fi
    done
    local name actions
    for name in "sslm http-01" "sslm dns-01"; do
        usable "$name" || continue
        # sslm's apply output names each step; the refresh steps say why the zones were refreshed.
        actions=$(sed -n 's/^[[:space:]]*done[[:space:]]\{1,\}\([^[:space:]]*refresh[^[:space:]]*\).*/\1/p' \
            "$work/${name// /-}.out" | paste -sd, - | sed 's/,/, /g')
        [[ -z "$actions" ]] || printf -- '- %s: refresh steps in its output: %s\n' "$name" "$actions"
    done
    if usable "sslm dns-01"; then
        # One refresh per apex publishes the whole batch's challenges, one more clears them (ssl-mgr does
        # the same, spec §8.5): 2 per apex, whatever the number of certificates.
        local want="2/2"
        ((certs == 1)) && want="2/0"
        printf -- '- dns-01: sslm refreshes each apex once to publish and once to clear (com/net %s): %s\n' "$want" \
            "$([[ "${row_apex["sslm dns-01"]}" == "$want" ]] && echo yes || echo "NO (${row_refresh["sslm dns-01"]} invocations, ${row_apex["sslm dns-01"]})")"
    fi
}

stamp=$(date -u +%Y-%m-%dT%H%M%SZ)
[[ -n "$out" ]] || out="$here/results"
mkdir -p -- "$out"
report="$out/acme-bench-$stamp.md"
cpu_model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
{
    printf '# ACME benchmark, %s\n\n' "$(date -u '+%Y-%m-%d %H:%M UTC')"
    printf 'Command: `bench/acme/acme-bench.sh%s`\n\n' "$(printf ' %q' "${argv[@]}")"
    printf '%s certificates × %s names, alternating example.com / example.net.\n\n' "$certs" "$names"
    table
    printf '\n'
    checks
    printf '\n'
    printf -- '- machine: %s cores, %s, %s; load average %s at the start, %s at the end\n' "$(nproc)" \
        "$cpu_model" "$(uname -sr)" "$load_start" "$(cut -d' ' -f1-3 /proc/loadavg)"
    ((skip_certbot)) || printf -- '- %s\n' "$(certbot --version 2>&1)"
    printf -- '- pebble %s (%s), PEBBLE_VA_NOSLEEP=1 PEBBLE_AUTHZREUSE=0\n' \
        "$(dpkg-query -W -f='${Version}' pebble 2>/dev/null || echo '?')" "$pebble_kind"
    printf -- '- nsd %s, DNS test bed: %s\n' "$(dpkg-query -W -f='${Version}' nsd 2>/dev/null || echo '?')" "$tb"
    ((skip_sslm)) || printf -- '- sslm: %s (%s)\n' "$("$sslm" --version 2>&1 | head -n 1)" "$sslm"
    for s in "${subjects[@]}"; do printf -- '- first certificate of %s\n' "$s"; done
    printf '\nwall, CPU (user + system of the run and everything it waited for: certbot, hooks, dns-refresh,\n'
    printf 'ldns-signzone, dig) and peak RSS (largest single process) from GNU time -v; refreshes = dns-refresh\n'
    printf 'invocations in refresh.log (per apex in parentheses); pebble CPU from /proc/PID/stat.\n'
} >"$report"

printf '\n'
table
printf '\n'
checks
printf '\nreport: %s\n' "$report"
((failed == 0)) || die "a run did not issue all its certificates (see above); the work directory is kept"
