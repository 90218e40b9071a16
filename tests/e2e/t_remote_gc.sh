#!/bin/bash
# A push while a real gc runs, and --bwlimit on a directory remote.
#
# push takes no writer lock, so gc may delete (and repack) packs while a
# push sends them.  A push made slow by --bwlimit is started, gc runs
# once the push is sending (its first temp file is on the remote), and
# whatever the interleaving: the push succeeds, its manifest names only
# complete packs, the next push makes the remote whole (check --remote
# --read-data clean, recover restores the live snapshot byte for byte),
# and every pack gc deleted that reached the remote is still there with
# its grace period running.
#
# --bwlimit on a directory remote is honoured (a sleep throttle in rio.c):
# a push of B bytes at L bytes/s cannot end sooner than about B/L — a
# lower bound the throttle itself sets, which a slow machine only makes
# longer.
. "$(dirname "$0")/lib.sh"
export CKPTFS_KEYWRAP_MS=1
printf 'gc pass\n' >"$T/pass"
export CKPTFS_PASSPHRASE_FILE=$T/pass

P=$T/proj
mkdir -p "$P"
head -c $((6 << 20)) /dev/urandom >"$P/doomed.bin"
(cd "$P" && ck snap -q -m doomed)
doomed=$("$CKPTFS" log -p proj | awk 'NR == 1 {print $1}')
rm "$P/doomed.bin"
head -c $((6 << 20)) /dev/urandom >"$P/kept.bin"
echo 'keep me' >"$P/note.txt"
(cd "$P" && ck snap -q -m kept)
ck key passphrase >/dev/null
(cd "$P" && ck forget "$doomed" >/dev/null && ck trash empty >/dev/null)
ck remote add usb "$T/usb" >/dev/null

# --- --bwlimit on a directory remote: honoured ----------------------------------------
bytes=$(du -sb "$CKPTFS_REPO/packs" | cut -f1)
ck remote add slow "$T/slow" >/dev/null
start=$(date +%s.%N)
ck push slow --bwlimit 4M >/dev/null
took=$(python3 -c "print($(date +%s.%N) - $start)")
# The throttle lets the first 4 MiB through at once, then 4 MiB/s.
python3 -c "import sys; b, t = $bytes, $took; sys.exit(0 if t >= (b - (4 << 20)) / (4 << 20) * 0.9 else 1)" ||
	fail "--bwlimit 4M: $bytes bytes in $took s"
expect_status 2 "$CKPTFS" push slow --bwlimit fast
ck remote remove slow >/dev/null

# --- a push while gc runs ----------------------------------------------------------------
"$CKPTFS" push usb --bwlimit 1M >"$T/push.out" 2>"$T/push.err" &
pid=$!
track_pid "$pid"
sending() { compgen -G "$T/usb/packs/*/*.tmp" >/dev/null || ! kill -0 "$pid" 2>/dev/null; }
wait_for 60 "the push to start sending" sending
before=$(find "$CKPTFS_REPO/packs" -name '*.pack' | wc -l)
ck gc >/dev/null
after=$(find "$CKPTFS_REPO/packs" -name '*.pack' | wc -l)
[ "$after" -lt "$before" ] || fail "gc deleted nothing ($before packs, then $after)"
rc=0
wait "$pid" || rc=$?
[ "$rc" = 0 ] || fail "push during gc exited $rc: $(cat "$T/push.err")"
while read -r _ name size _; do
	[ "$(stat -c %s "$T/usb/packs/${name:0:2}/$name.pack" 2>/dev/null)" = "$size" ] ||
		fail "manifest names $name, not complete"
done < <(grep '^pack ' "$T/usb/manifest")

# The next push completes the remote; deleted packs stay for the grace.
ck push usb >/dev/null
expect_status 0 "$CKPTFS" check --remote usb --read-data
(cd "$CKPTFS_REPO" && find packs -name '*.pack' | sort) >"$T/local"
(cd "$T/usb" && find packs -name '*.pack' | sort) >"$T/remote"
for f in $(comm -13 "$T/local" "$T/remote"); do
	name=$(basename "$f" .pack)
	line=$(grep "^pack $name " "$T/usb/manifest") || fail "$name: on the remote, not in the manifest"
	[ "$(echo "$line" | awk '{print $5}')" != 0 ] || fail "$name: gone locally, no grace time: $line"
done
[ -z "$(comm -23 "$T/local" "$T/remote")" ] || fail "local packs missing on the remote after a second push"

CKPTFS_REPO=$T/rec ck recover "$T/usb" >/dev/null
CKPTFS_REPO=$T/rec "$CKPTFS" log -p proj >"$T/log"
[ "$(wc -l <"$T/log")" = 1 ] || fail "recovered log: $(cat "$T/log")"
CKPTFS_REPO=$T/rec ck restore . -p proj --to "$T/out" >/dev/null
cmp -s "$T/out/kept.bin" "$P/kept.bin" && cmp -s "$T/out/note.txt" "$P/note.txt" || fail "restore after recover"
echo ok
