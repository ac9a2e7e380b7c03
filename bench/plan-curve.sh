#!/usr/bin/env bash
# The scale curve of issue "speed": `sslm plan` and `sslm status` over N services in sync with warm
# caches (as cron's runs leave them), and `plan` with both caches off, for N = 1,000 / 10,000 / 50,000.
# Each topdir comes from `sslm-bench topdir --in-sync`; two `sslm apply` runs 1.5 s apart fill the
# observation and config caches (the second is the "apply in sync" figure). Prints hyperfine's summary of
# `plan` and GNU time's wall / CPU / peak RSS lines; asserts nothing. Figures: Docs/PERFORMANCE.md.
#
# usage: bench/plan-curve.sh [--sizes "1000 10000 50000"] [--no-build] [--keep]
#   --sizes     service counts (50,000 needs about 1.3 GB of memory and 3 GB of disk, and ~2 minutes)
#   --no-build  use the release binaries already built
#   --keep      keep the topdirs (printed) for profiling
# Needs: hyperfine and GNU time (Debian packages `hyperfine`, `time`).
set -euo pipefail

sizes=(1000 10000 50000)
build=1
keep=0
while (($# > 0)); do
    case "$1" in
        --sizes) read -r -a sizes <<<"${2:?--sizes needs a value}"; shift 2 ;;
        --no-build) build=0; shift ;;
        --keep) keep=1; shift ;;
        -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "plan-curve.sh: unknown argument: $1 (see --help)" >&2; exit 64 ;;
    esac
done
for n in "${sizes[@]}"; do
    [[ "$n" =~ ^[1-9][0-9]*$ ]] || { echo "plan-curve.sh: --sizes: '$n' is not a positive number" >&2; exit 64; }
done
command -v hyperfine >/dev/null || { echo "plan-curve.sh: hyperfine is missing: apt-get install hyperfine" >&2; exit 69; }
[[ -x /usr/bin/time ]] || { echo "plan-curve.sh: /usr/bin/time is missing: apt-get install time" >&2; exit 69; }

repo="$(cd -- "$(dirname -- "$0")/.." && pwd)"
cd -- "$repo"
# shellcheck source=bench/lib/release-binaries.sh
source bench/lib/release-binaries.sh
release_binaries "$build"
work="$(mktemp -d /tmp/sslm-plan-curve.XXXXXX)"
((keep)) || trap 'rm -rf -- "$work"' EXIT
echo "plan curve: $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), in $work"

timed() { # LABEL COMMAND...: one run, GNU time's line prefixed with LABEL (stdout discarded)
    local label="$1"
    shift
    /usr/bin/time -f "$label %e s wall, %U s user, %S s system, %M KB peak RSS" "$@" >/dev/null
}

for n in "${sizes[@]}"; do
    dir="$work/n$n"
    "$bin/sslm-bench" topdir --services "$n" --out "$dir" --in-sync >/dev/null
    sleep 1.5
    "$bin/sslm" apply --topdir "$dir" >/dev/null
    sleep 1.5
    timed "N=$n apply (in sync, warm):" "$bin/sslm" apply --topdir "$dir"
    runs=11
    ((n >= 50000)) && runs=5
    hyperfine -N --warmup 1 --runs "$runs" --export-json "$work/plan$n.json" "$bin/sslm plan --topdir $dir" \
        | grep -E 'Time|Range'
    python3 - "$work/plan$n.json" "$n" <<'PY'
import json, sys
result = json.load(open(sys.argv[1]))["results"][0]
print(f"N={sys.argv[2]} plan median {result['median']:.3f} s (min {result['min']:.3f}, max {result['max']:.3f})")
PY
    timed "N=$n plan (warm):" "$bin/sslm" plan --topdir "$dir"
    timed "N=$n status (warm):" "$bin/sslm" status --topdir "$dir"
    SSLM_OBSERVATION_CACHE=off SSLM_CONFIG_CACHE=off timed "N=$n plan (caches off):" "$bin/sslm" plan --topdir "$dir"
    ((keep)) || rm -rf -- "$dir"
done
