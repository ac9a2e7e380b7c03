#!/usr/bin/env bash
# `sslm status` against `lego list` over the same certificates, measured in the same run (issue "speed").
# Generates N services signed by a local CA (`sslm-bench topdir`), applies twice (the second run, more than
# a second after the files were written, fills the observation cache as cron's runs do), copies each curr
# certificate into a lego storage directory (<dir>/certificates/<name>.crt, .issuer.crt, .json) and times
# both with hyperfine. Prints hyperfine's table and the medians; asserts nothing.
#
# usage: bench/status-vs-lego.sh [--services 20] [--runs 60] [--no-build]
# Needs: lego and hyperfine (Debian packages `lego`, `hyperfine`).
set -euo pipefail

services=20
runs=60
build=1
while (($# > 0)); do
    case "$1" in
        --services) services="${2:?--services needs a value}"; shift 2 ;;
        --runs) runs="${2:?--runs needs a value}"; shift 2 ;;
        --no-build) build=0; shift ;;
        -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "status-vs-lego.sh: unknown argument: $1 (see --help)" >&2; exit 64 ;;
    esac
done
[[ "$services" =~ ^[1-9][0-9]*$ ]] || { echo "status-vs-lego.sh: --services: expected a positive integer" >&2; exit 64; }
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || { echo "status-vs-lego.sh: --runs: expected a positive integer" >&2; exit 64; }
for tool in lego hyperfine; do
    command -v "$tool" >/dev/null || { echo "status-vs-lego.sh: $tool is missing: apt-get install $tool" >&2; exit 69; }
done

repo="$(cd -- "$(dirname -- "$0")/.." && pwd)"
cd -- "$repo"
# shellcheck source=bench/lib/release-binaries.sh
source bench/lib/release-binaries.sh
release_binaries "$build"
work="$(mktemp -d /tmp/sslm-status-lego.XXXXXX)"
trap 'rm -rf -- "$work"' EXIT

"$bin/sslm-bench" topdir --services "$services" --out "$work/topdir" --in-sync >/dev/null
"$bin/sslm" apply --topdir "$work/topdir" >/dev/null
sleep 1.2
"$bin/sslm" apply --topdir "$work/topdir" >/dev/null

mkdir -p "$work/lego/certificates"
for dir in "$work"/topdir/certs/*/*/; do
    group="$(basename -- "$(dirname -- "$dir")")"
    service="$(basename -- "$dir")"
    [[ "$group" == ca ]] && continue
    name="$service.$group"
    cp -- "$dir/curr/fullchain.pem" "$work/lego/certificates/$name.crt"
    cp -- "$dir/curr/chain.pem" "$work/lego/certificates/$name.issuer.crt"
    printf '{"domain":"%s","certUrl":"https://ca.invalid/%s","certStableUrl":"https://ca.invalid/%s"}\n' \
        "$name" "$name" "$name" >"$work/lego/certificates/$name.json"
done
count="$(find "$work/lego/certificates" -name '*.crt' ! -name '*.issuer.crt' | wc -l)"
echo "certificates: $count (sslm: $services services + the CA group), machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"

hyperfine -N --warmup 5 --runs "$runs" --export-json "$work/result.json" \
    "$bin/sslm status --topdir $work/topdir" \
    "lego --path $work/lego list" \
    "$bin/sslm --version"
python3 - "$work/result.json" <<'PY'
import json, sys
for result in json.load(open(sys.argv[1]))["results"]:
    command = result["command"].split("/")[-1]
    print(f"median {result['median'] * 1000:6.1f} ms  mean {result['mean'] * 1000:6.1f} ms  {command}")
PY
