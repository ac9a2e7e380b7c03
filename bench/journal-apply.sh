#!/bin/sh
# Apply time and peak RSS with a large .sslm/journal.jsonl (Docs/PERFORMANCE.md "Journal").
#
#   bench/journal-apply.sh [--sslm PATH] [--size-mb 500] [--keep]
#
# Makes a topdir from conf.d.example (EC keys, no DNS needed), applies it once, prepends synthetic records
# of old plans until the journal is --size-mb MB, then times `sslm apply` twice (GNU /usr/bin/time): the
# first run compacts the journal, the second shows the steady state. Prints figures; asserts nothing.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
sslm="$root/.build/release/sslm"
size_mb=500
keep=no
while [ $# -gt 0 ]; do
    case "$1" in
        --sslm) sslm=$2; shift 2 ;;
        --size-mb) size_mb=$2; shift 2 ;;
        --keep) keep=yes; shift ;;
        *) echo "usage: $0 [--sslm PATH] [--size-mb N] [--keep]" >&2; exit 2 ;;
    esac
done
[ -x "$sslm" ] || { echo "no sslm at $sslm (swift build -c release, or --sslm PATH)" >&2; exit 2; }
topdir=$(mktemp -d /tmp/sslm-journal-bench.XXXXXX)
[ "$keep" = yes ] || trap 'rm -rf "$topdir"' EXIT
cp -r "$root/conf.d.example" "$topdir/conf.d"
for service in mail-ec mail-rsa; do
    sed -i -e "s/dane_tls = \[\[25, 'tcp', 3, 1, 1\]\]/dane_tls = [[465, 'tcp', 3, 1, 1]]/" \
        -e "s/ktype = 'rsa'/ktype = 'ec'/" "$topdir/conf.d/example.com/$service"
done
"$sslm" apply --topdir "$topdir" >/dev/null

journal="$topdir/.sslm/journal.jsonl"
python3 - "$journal" "$size_mb" <<'PY'
import sys
path, size = sys.argv[1], int(sys.argv[2]) * 1000 * 1000
real = open(path, "rb").read()
actions = ["example.com/web-ec/next/dir", "example.com/web-ec/next/key", "example.com/web-ec/next/csr",
           "example.com/web-ec/next/sign", "example.com/web-ec/roll", "example.com/web-ec/prod",
           "example.com/mail-ec/next/dir", "example.com/mail-ec/roll", "example.com/tlsa",
           "restart/mx1.example.com/smtp"]
written = 0
plan = 0
with open(path + ".new", "wb") as out:
    while written < size:
        digest = "sha256:%064x" % plan
        lines = ['{"detail":"base sha256:%064x","event":"begin","plan":"%s","time":"2020-01-01T00:00:00Z"}' % (plan, digest)]
        for action in actions:
            lines.append('{"action":"%s","event":"start","plan":"%s","time":"2020-01-01T00:00:01Z"}' % (action, digest))
            lines.append('{"action":"%s","detail":"db/20200101-00:00:00","event":"ok","plan":"%s","time":"2020-01-01T00:00:02Z"}' % (action, digest))
        lines.append('{"detail":"ok","event":"end","plan":"%s","time":"2020-01-01T00:00:03Z"}' % digest)
        chunk = ("\n".join(lines) + "\n").encode()
        out.write(chunk)
        written += len(chunk)
        plan += 1
    out.write(real)
import os
os.replace(path + ".new", path)
print("journal: %d MB, %d old plans, %d lines" % ((written + len(real)) // 1000000, plan, plan * 22))
PY
sync
for run in 1 2; do
    /usr/bin/time -f "apply $run: %e s wall, %U s user, %S s sys, %M KiB peak RSS" \
        "$sslm" apply --force example.net:web-ec --topdir "$topdir" >/dev/null
    echo "journal after apply $run: $(wc -c <"$journal") bytes, $(wc -l <"$journal") lines"
done
