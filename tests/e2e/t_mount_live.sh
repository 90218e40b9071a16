#!/bin/bash
# The mount follows the repository: a snapshot committed while mounted
# shows up soon (the mount polls the catalog every 0.5 s) and `latest` moves; a new project appears;
# mounting while `snap` runs works and never shows a snapshot before it is
# committed.
. "$(dirname "$0")/lib.sh"

P=$T/proj
M=$T/mnt
mkdir -p "$P"
printf 'one\n' >"$P/file"
ck snap -q "$P" -t start
mount_ckpt "$M"
first=$(readlink "$M/proj/latest")
[ -n "$first" ] || fail "no latest"

# appears soon, while the kernel has the old listing cached
ls "$M/proj" >/dev/null
stat "$M/proj/latest" >/dev/null
printf 'two\n' >"$P/file"
ck snap -q "$P" -t second
start=$(date +%s%N)
second=$(ck log --project proj --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["name"])')
visible() { [ "$(readlink "$M/proj/latest")" = "$second" ] && [ -d "$M/proj/$second" ] &&
	ls "$M/proj" | grep -qx -- "$second"; }
# Usually well under a second; a loaded machine gets more time.
wait_for 60 "$second not visible" visible
echo "visible after $(( ($(date +%s%N) - start) / 1000000 )) ms"
[ "$(cat "$M/proj/latest/file")" = two ] || fail "latest/file"
[ "$(cat "$M/proj/$first/file")" = one ] || fail "first/file"
[ "$(readlink "$M/proj/@tags/second")" = "../$second" ] || fail "new tag"
# attributes of the project folder may be cached for a second
sleep 1.1
# 2 + two snapshots + @tags + @versions
[ "$(stat -c %h "$M/proj")" = 6 ] || fail "project nlink $(stat -c %h "$M/proj")"

# a new project
Q=$T/other
mkdir -p "$Q"
printf 'q\n' >"$Q/q"
ck snap -q "$Q"
wait_for 60 "new project not visible" test -e "$M/other/latest/q"
[ "$(cat "$M/other/latest/q")" = q ] || fail "new project: wrong content"
ck umount "$M"

# --- mount while snap runs -----------------------------------------------------
head -c 48M /dev/urandom >"$P/big"
for i in $(seq 200); do printf '%d\n' "$i" >"$P/s$i"; done
before=$(ls -A "$P" | wc -l)
"$CKPTFS" snap -q "$P" -m during &
snap_pid=$!
track_pid $snap_pid
mount_ckpt "$M"
n0=$(ls "$M/proj" | wc -l)
# every snapshot listed while snap works is complete
while kill -0 $snap_pid 2>/dev/null; do
	for s in "$M"/proj/2*; do
		n=$(ls -A "$s" | wc -l)
		[ "$n" = 1 ] || [ "$n" = "$before" ] || fail "$s: $n entries: a partial snapshot is visible"
	done
	sleep 0.1
done
wait $snap_pid || fail "snap exited $?"
wait_for 60 "the snapshot taken while mounting is not visible" test -e "$M/proj/latest/big"
cmp "$M/proj/latest/big" "$P/big" || fail "big after snap"
[ "$(ls "$M/proj" | wc -l)" = $((n0 + 1)) ] || fail "not exactly one new snapshot"
ck umount "$M"
echo ok
