#!/bin/bash
# t_gc.sh — ckptfs gc end to end.
#
#   - snapshots of a changing project; some forgotten: gc keeps their data
#     while they are in the trash (trash restore brings them back whole);
#     once the trash is emptied, gc --dry-run lists what gc
#     then does and changes nothing; gc reclaims the space; every remaining
#     snapshot restores byte for byte; check --read-data is clean; a
#     second gc has nothing to do;
#   - gc while a mount streams files of kept snapshots (page cache dropped
#     before every read, a small chunk cache) and a restore loop runs:
#     content compared, never an error, while every round of gc moves the
#     very blobs being read into new packs; a check loop alongside never
#     reports damage (it and gc wait for each other);
#   - a snap started while gc runs (held there by a shared gc.lock) gives
#     up after its lock wait, or waits for gc and is then correct;
#   - bad input: --repack-threshold out of range, a locked repository.
. "$(dirname "$0")/lib.sh"


P=$T/proj
mkdir -p "$P/src" "$P/data"
for i in $(seq 1 40); do echo "file $i" >"$P/src/f$i.txt"; done
head -c $((6 << 20)) /dev/urandom >"$P/data/stable.bin"
echo "SECRET=1" >"$P/.env"

manifest() {
	(cd "$1" && find . -mindepth 1 -printf '%y %P\n' | LC_ALL=C sort &&
		find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum)
}
names=()
snap() {
	ck snap -q "$P" >/dev/null
	local n
	n=$("$CKPTFS" log -p proj -n 1 | awk '{print $1}')
	names+=("$n")
	manifest "$P" >"$T/m.$n"
}
# verify NAME: the snapshot restores to exactly what it saw.
verify() {
	rm -rf "$T/r"
	"$CKPTFS" restore . -p proj --from "$1" --to "$T/r" >/dev/null || fail "restore of $1 exited $?"
	manifest "$T/r" >"$T/got"
	cmp -s "$T/got" "$T/m.$1" || { diff "$T/m.$1" "$T/got" | head >&2; fail "snapshot $1 does not restore to the tree it saw"; }
}
forget_rows() { # NAME...: forget the snapshots and empty the trash: collectable
	ck forget -p proj "$@" >/dev/null
	ck trash empty -p proj >/dev/null
}
packs_bytes() { find "$CKPTFS_REPO/packs" -name '*.pack' -printf '%s\n' | awk '{s += $1} END {print s + 0}'; }
packs_list() { find "$CKPTFS_REPO/packs" -name '*.pack' -printf '%f\n' | sort; }

# A history: scratch.bin is new in every snapshot, big files rotate,
# small ones change (not in round 4, whose pack is then dead as a whole
# once its row goes).
for i in 1 2 3 4 5 6; do
	head -c $((2 << 20)) /dev/urandom >"$P/data/scratch.bin"
	if [ $i != 4 ]; then
		head -c $((4 << 20)) /dev/urandom >"$P/data/big$((i % 3)).bin"
		echo "round $i" >>"$P/src/f$i.txt"
	fi
	snap
	sleep 1.1 # distinct snapshot names by the second
done
# In the trash, a snapshot's data is kept: gc frees nothing of it, and
# trash restore brings it back whole.
ck forget -p proj "${names[0]}" "${names[1]}" "${names[3]}" >/dev/null
ck gc --json >"$T/trashed.json"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["packs_deleted"] == 0 and d["packs_repacked"] == 0, d' "$T/trashed.json" ||
	fail "gc collected data of snapshots in the trash"
ck trash restore -p proj "${names[0]}" >/dev/null
verify "${names[0]}"
forget_rows "${names[0]}" # names[1] and [3] are in the trash already: emptied with it
keep=("${names[2]}" "${names[4]}" "${names[5]}")

# --dry-run: lists, changes nothing.
packs_list >"$T/packs.before"
before=$(packs_bytes)
ck gc --dry-run >"$T/dry"
cat "$T/dry"
grep -Eq '^gc \(dry run\): [0-9]+ packs, [0-9]+ would be repacked, [0-9]+ deleted; ' "$T/dry" || fail "dry run summary"
grep -q '^would delete pack ' "$T/dry" || fail "dry run lists no pack to delete"
packs_list | cmp -s - "$T/packs.before" || fail "gc --dry-run changed packs/"
ck gc --dry-run --json >"$T/dry.json"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["dry_run"] and d["actions"] and d["error"] is None' "$T/dry.json" ||
	fail "gc --dry-run --json is not the expected JSON"
# What the dry run says would go is what goes.
grep '^would delete pack [0-9a-f]' "$T/dry" | awk '{print $4}' | sort >"$T/would.delete"
grep '^would repack pack [0-9a-f]' "$T/dry" | awk '{print $4}' | sort >"$T/would.repack"

ck gc --json >"$T/gc.json"
python3 - "$T/gc.json" "$T/would.delete" "$T/would.repack" <<'PY' || fail "gc --json does not match the dry run"
import json, sys
d = json.load(open(sys.argv[1]))
dele = sorted(a["pack"] for a in d["actions"] if a["action"] == "delete")
rep = sorted(a["pack"] for a in d["actions"] if a["action"] == "repack")
assert dele == open(sys.argv[2]).read().split(), (dele,)
assert rep == open(sys.argv[3]).read().split(), (rep,)
assert d["packs_deleted"] == len(dele) and d["packs_repacked"] == len(rep)
assert d["bytes_after"] < d["bytes_before"] and d["error"] is None
PY
after=$(packs_bytes)
echo "packs: $before -> $after bytes"
[ "$after" -lt "$before" ] || fail "gc reclaimed nothing ($before -> $after)"
for n in $(cat "$T/would.delete" "$T/would.repack"); do
	grep -qx "$n.pack" <(packs_list) && fail "pack $n is still there"
done
for n in "${keep[@]}"; do verify "$n"; done
ck check --read-data -q
ck gc >"$T/gc2"
grep -Eq '^gc: [0-9]+ packs, 0 repacked, 0 deleted; .* -> .*; ' "$T/gc2" || { cat "$T/gc2"; fail "a second gc had work to do"; }

# ---- gc while readers read -------------------------------------------
# Each round adds a distinct file to a new snapshot and deletes the row of
# the snapshot before: that snapshot's pack holds a dead snapshot record,
# so gc rewrites it, moving blobs the newest snapshot reads.
readers=()
fails=$T/reader-fails
: >"$fails"
mounted=
if [ -e /dev/fuse ] && command -v fusermount3 >/dev/null; then
	mount_ckpt "$T/mnt" --cache-size 1M
	mounted=1
fi
for r in 1 2 3 4; do
	head -c $((3 << 20)) /dev/urandom >"$P/data/r$r.bin"
	snap
done
last=${names[-1]}
sha256sum "$P"/data/*.bin | sed "s|$P/data/||" | sort -k2 >"$T/sums"
stop=$T/stop
mount_reader() {
	local n=0 d f want
	while [ ! -e "$stop" ]; do
		d="$T/mnt/proj/$last/data"
		while read -r want f; do
			# Drop the kernel's cache of the file: the read must reach the store.
			dd if="$d/$f" iflag=nocache count=0 status=none 2>/dev/null || true
			got=$(sha256sum <"$d/$f" | awk '{print $1}') || { echo "mount: reading $f failed" >>"$fails"; continue; }
			[ "$got" = "$want" ] || echo "mount: $f differs" >>"$fails"
			n=$((n + 1))
		done <"$T/sums"
	done
	echo "$n" >"$T/mount-reads"
}
restore_reader() {
	local n=0
	while [ ! -e "$stop" ]; do
		rm -rf "$T/rr"
		"$CKPTFS" restore data -p proj --from "$last" --to "$T/rr" >/dev/null 2>>"$fails.restore" ||
			{ echo "restore failed" >>"$fails"; continue; }
		(cd "$T/rr" && sha256sum *.bin | sort -k2) | cmp -s - "$T/sums" || echo "restore: content differs" >>"$fails"
		n=$((n + 1))
	done
	echo "$n" >"$T/restore-reads"
}
# check reads the pack list once: it waits for a gc (and gc for it), so
# it never takes a pack gc deleted meanwhile for damage.
check_reader() {
	local n=0
	while [ ! -e "$stop" ]; do
		"$CKPTFS" check -q >"$T/check.out" 2>&1 || { cat "$T/check.out" >>"$fails"; echo "check failed" >>"$fails"; }
		n=$((n + 1))
	done
	echo "$n" >"$T/check-runs"
}
[ -n "$mounted" ] && { mount_reader & readers+=($!); track_pid $!; }
restore_reader & readers+=($!); track_pid $!
check_reader & readers+=($!); track_pid $!
sleep 0.5
moved=0
for k in 2 3 4; do
	forget_rows "${names[-$k]}"
	"$CKPTFS" gc --json >"$T/g.json" || fail "gc under readers exited $?"
	moved=$((moved + $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["packs_repacked"])' "$T/g.json")))
	sleep 0.5
done
touch "$stop"
for p in "${readers[@]}"; do wait "$p" || true; done
[ -s "$fails" ] && { cat "$fails" "$fails.restore" 2>/dev/null | head -20 >&2; fail "readers saw errors while gc ran"; }
echo "gc under readers: $moved packs rewritten; mount reads: $(cat "$T/mount-reads" 2>/dev/null || echo none)," \
	"restores: $(cat "$T/restore-reads"), checks: $(cat "$T/check-runs")"
[ "$moved" -gt 0 ] || fail "no gc round rewrote a pack the readers read"
verify "$last"

# ---- a snap started during gc ------------------------------------------
forget_rows "${names[5]}" # live until now: gc has work while the snap waits
head -c $((5 << 20)) /dev/urandom >"$P/data/during.bin"
# The overlap made certain: a shared hold of gc.lock (what a running check
# holds) keeps gc waiting with the writer lock taken; a snap started then
# gives up after its lock wait (exit 4) or, waiting longer, runs after gc.
# The hold is taken before gc starts and dropped only once the first snap
# gave up (it was "sleep 2" after "sleep 0.2": a slow machine could start gc
# before the hold, or reach the snap after it ended).
hold_lock "$CKPTFS_REPO/gc.lock" -s
"$CKPTFS" gc >"$T/gc.bg" 2>&1 &
gcpid=$!
track_pid $gcpid
wait_for 60 "gc taking the writer lock" sh -c '! flock -n "$0" true' "$CKPTFS_REPO/lock"
CKPTFS_LOCK_WAIT=0.3 expect_status 4 "$CKPTFS" snap -q "$P"
grep -q 'locked by another ckptfs' "$T/stderr" || fail "snap during gc: $(cat "$T/stderr")"
# This snap waits while gc holds the writer lock, then runs after it.
CKPTFS_LOCK_WAIT=120 "$CKPTFS" snap -q "$P" >/dev/null 2>"$T/snap.err" &
snappid=$!
track_pid $snappid
release_lock
rc=0
wait $snappid || rc=$?
[ $rc = 0 ] || { cat "$T/snap.err" >&2; fail "snap during gc exited $rc"; }
kill -0 $gcpid 2>/dev/null && ! grep -q . "$T/gc.bg" && fail "the snap ran while gc still held the lock"
wait $gcpid || { cat "$T/gc.bg" >&2; fail "gc (with a snap waiting) exited $?"; }
grep -Eq '^gc: [0-9]+ packs, [1-9][0-9]* repacked|, [1-9][0-9]* deleted' "$T/gc.bg" || { cat "$T/gc.bg" >&2; fail "gc had nothing to do while the snap waited"; }
n=$("$CKPTFS" log -p proj -n 1 | awk '{print $1}')
manifest "$P" >"$T/m.$n"
verify "$n"
ck check --read-data -q
ck gc >/dev/null
verify "$n"
ck check --read-data -q

# ---- --if-due: the scheduled run's step, once a week ---------------------
# The gc just above finished, so it is not due; a week on, it runs (and
# records the run), and is then not due again.
ck gc --if-due >"$T/due.txt"
grep -q '^gc: not due (the last one finished .* ago; next after 7 days)$' "$T/due.txt" ||
	fail "gc --if-due right after a gc: $(cat "$T/due.txt")"
week=$(( $(date +%s) + 8 * 86400 ))
CKPTFS_NOW=$week ck gc --if-due >"$T/due.txt"
grep -q '^gc: [0-9]* packs, ' "$T/due.txt" || fail "gc --if-due a week later did not run: $(cat "$T/due.txt")"
CKPTFS_NOW=$((week + 3600)) ck gc --if-due --json >"$T/due.json"
python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); assert d["due"] is False, d' "$T/due.json" ||
	fail "gc --if-due --json: $(cat "$T/due.json")"
ck check --read-data -q

# ---- bad input ----------------------------------------------------------
expect_status 2 "$CKPTFS" gc --repack-threshold 101
grep -q '^ckptfs: gc: --repack-threshold 101' "$T/stderr" || fail "threshold message: $(cat "$T/stderr")"
expect_status 2 "$CKPTFS" gc extra
if command -v flock >/dev/null; then
	hold_lock "$CKPTFS_REPO/lock"
	CKPTFS_LOCK_WAIT=0.5 expect_status 4 "$CKPTFS" gc
	grep -q 'locked by another ckptfs' "$T/stderr" || fail "lock message: $(cat "$T/stderr")"
	release_lock
fi
echo "gc: ok"
