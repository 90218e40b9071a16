#!/bin/bash
# A corrupted pack: reading the affected file fails with EIO (never wrong
# data, never ENOENT) and the log names the project, snapshot and file;
# everything else keeps working.
. "$(dirname "$0")/lib.sh"

P=$T/proj
M=$T/mnt
mkdir -p "$P/dir"
printf 'good\n' >"$P/good.txt"
printf 'also good\n' >"$P/dir/other.txt"
ck snap -q "$P"
find "$CKPTFS_REPO/packs" -name '*.pack' | sort >"$T/packs1"

# a new large file: its chunks fill new packs of their own
head -c 40M /dev/urandom >"$P/big.bin"
ck snap -q "$P"
find "$CKPTFS_REPO/packs" -name '*.pack' | sort >"$T/packs2"
pack=$(comm -13 "$T/packs1" "$T/packs2" | xargs ls -S | head -1)
[ -n "$pack" ] || fail "no new pack"
size=$(stat -c %s "$pack")
[ "$size" -gt $((16 << 20)) ] || fail "the new pack is only $size bytes"
chmod u+w "$pack"
printf '\xde\xad\xbe\xef\xde\xad\xbe\xef' | dd of="$pack" bs=1 seek=$((size / 2)) conv=notrunc status=none

# serve in the foreground to read the log
mkdir -p "$M"
_mounts+=("$M")
"$CKPTFS" mount -f "$M" 2>"$T/log" &
track_pid $!
wait_for 60 "not mounted" mountpoint -q "$M"
snaps=($(ls "$M/proj" | grep '^2' | LC_ALL=C sort))
s2=${snaps[1]}

if cat "$M/proj/$s2/big.bin" >"$T/out" 2>"$T/err"; then fail "reading the damaged file succeeded"; fi
grep -q "Input/output error" "$T/err" || fail "not EIO: $(cat "$T/err")"
# the same again: errors are not cached as data
if cmp -s "$M/proj/$s2/big.bin" "$P/big.bin" 2>/dev/null; then fail "damaged file read back whole"; fi
# what precedes the damage reads fine
head -c 1M "$M/proj/$s2/big.bin" | cmp - <(head -c 1M "$P/big.bin") || fail "start of the damaged file"
# the log names project, snapshot, file and what is wrong
grep -q "proj/$s2/big.bin" "$T/log" || { cat "$T/log"; fail "log does not name the file"; }
# everything else is intact
[ "$(cat "$M/proj/$s2/good.txt")" = good ] || fail "good.txt"
[ "$(cat "$M/proj/$s2/dir/other.txt")" = "also good" ] || fail "dir/other.txt"
[ "$(cat "$M/proj/${snaps[0]}/good.txt")" = good ] || fail "first snapshot"
[ "$(ls "$M/proj/$s2" | wc -l)" = 3 ] || fail "listing"
stat "$M/proj/$s2/big.bin" >/dev/null || fail "stat of the damaged file"
ck umount "$M"
cat "$T/log"
echo ok
