# update-testbed-lib.sh: what knot-testbed and bind-testbed share (sourced, not run): free loopback ports,
# pid handling, waiting for a serial, the test zone, the TSIG key. Every query is pinned to 127.0.0.1 and a port.

die() {
    printf '%s: %s\n' "$(basename -- "$0")" "$*" >&2
    exit 1
}

check_dir() {
    [[ "$1" =~ ^[A-Za-z0-9._/+-]+$ ]] || die "DIR \"$1\" must consist of letters, digits and ._/+- only"
}

abs_dir() {
    (cd -- "$1" && pwd)
}

# A port that is neither a listening TCP nor a bound UDP port on this machine now.
free_port() {
    local port used tries=0
    used=$(ss -Hltun 2>/dev/null | awk '{print $5}' | sed 's/.*://' | sort -u)
    while ((tries < 200)); do
        port=$((20000 + RANDOM % 40000))
        if ! grep -qx -- "$port" <<<"$used"; then
            printf '%s\n' "$port"
            return 0
        fi
        tries=$((tries + 1))
    done
    die "no free port found"
}

env_get() {  # env_get FILE KEY
    [[ -f "$1" ]] || die "$1 does not exist (was the test bed started?)"
    sed -n "s/^${2}=//p" "$1" | tail -n 1
}

serial_of() {  # serial_of PORT ZONE → the served SOA serial, or nothing
    dig +short +norecurse +time=1 +tries=1 @127.0.0.1 -p "$1" "$2" SOA 2>/dev/null | awk 'NR == 1 {print $3}'
}

answers() {  # answers PORT ZONE → 0 when the server serves the zone's SOA
    [[ -n "$(serial_of "$1" "$2")" ]]
}

pid_alive() {  # a zombie counts as gone
    [[ -n "${1:-}" ]] && kill -0 "$1" 2>/dev/null || return 1
    local state
    state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null || true)
    [[ -n "$state" && "$state" != Z ]]
}

read_pid() {
    [[ -f "$1" ]] && tr -dc '0-9' <"$1" || true
}

stop_pid() {  # stop_pid PID: SIGTERM, then SIGKILL after 2 s
    local pid=$1 i
    pid_alive "$pid" || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 100); do
        pid_alive "$pid" || return 0
        sleep 0.02
    done
    kill -KILL "$pid" 2>/dev/null || true
    for i in $(seq 1 50); do
        pid_alive "$pid" || return 0
        sleep 0.02
    done
}

# The zone every update test bed serves: SOA, NS, a few A records, and records sslm does not manage at the
# owners the tests change (they must survive every deletion by value).
UNMANAGED_TXT="unmanaged: not added by sslm"
UNMANAGED_TLSA="3 1 1 $(printf 'ab%.0s' $(seq 1 32))"
zone_text() {  # zone_text ZONE SERIAL
    cat <<ZONE
\$ORIGIN ${1}.
\$TTL 300
@                   IN SOA ns1.${1}. hostmaster.${1}. ( ${2} 3600 600 604800 60 )
@                   IN NS ns1.${1}.
@                   IN NS ns2.${1}.
@                   IN A 127.0.0.1
ns1                 IN A 127.0.0.1
ns2                 IN A 127.0.0.2
www                 IN A 127.0.0.1
mail                IN A 127.0.0.1
_acme-challenge     IN TXT "${UNMANAGED_TXT}"
_acme-challenge.www IN TXT "${UNMANAGED_TXT}"
_25._tcp.mail       IN TLSA ${UNMANAGED_TLSA}
ZONE
}

# make_key DIR NAME ALGORITHM → writes DIR/NAME.key as tsig-keygen does and prints its path
make_key() {
    command -v tsig-keygen >/dev/null 2>&1 || die "tsig-keygen is missing (Debian package bind9-utils)"
    tsig-keygen -a "$3" "$2" >"$1/$2.key"
    chmod 600 "$1/$2.key"
    printf '%s\n' "$1/$2.key"
}

key_secret() {  # key_secret KEYFILE → the base64 secret
    sed -n 's/.*secret "\([^"]*\)".*/\1/p' "$1"
}
