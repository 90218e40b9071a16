#!/bin/bash
# t_crash.sh — SIGKILL `ckptfs snap` and `ckptfs restore` at random instants.
#
# snap: a project of large and small files changes between rounds; each
# round starts a snap and kills it after a random delay spread over the
# measured duration of a snap.  After every kill:
#   - check --read-data passes (leftovers are notices, not damage);
#   - if the killed snap committed, its snapshot is exactly the tree it saw;
#   - so every earlier snapshot is intact blob by blob; the newest (and
#     every 4th round a random older one) restores byte for byte, and at
#     the end every snapshot does;
#   - the next snap succeeds and is correct.
# restore into the project: killed at random instants; every file is then
# either its version before the restore or the restored one, never torn.
#
# Rounds: CKPTFS_CRASH_ROUNDS, else 300 (snap; more, up to 600, until 200
# were killed mid-run) + 50 (restore) with CKPTFS_LONG=1, else 8 + 2.  Figures go to $CKPTFS_FIGURES if set.
. "$(dirname "$0")/lib.sh"


# Long mode goes on past 300 rounds (up to 600) until 200 snaps were
# killed mid-run: how many kills land depends on the machine's speed.
min_kills=0
if [ -n "${CKPTFS_CRASH_ROUNDS:-}" ]; then
	rounds=$CKPTFS_CRASH_ROUNDS rrounds=$(( (CKPTFS_CRASH_ROUNDS + 3) / 4 ))
elif [ "${CKPTFS_LONG:-0}" = 1 ]; then
	rounds=300 rrounds=50 min_kills=200
else
	rounds=8 rrounds=2
fi

P=$T/proj
mkdir -p "$P/src/deep/er" "$P/data"
RANDOM=4242

# manifest DIR: every entry with its type, and the content hash of files.
manifest() {
	(cd "$1" && find . -mindepth 1 ! -name '*.ckptfs-??????' -printf '%y %P\n' | LC_ALL=C sort &&
		find . -type f ! -name '*.ckptfs-??????' -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum)
}

mutate() {
	local i=$1
	# New data every round (a file rewritten), more than a pack's worth
	# now and then so packs finish in the middle of a snap.
	local mb=4
	[ $((i % 5)) = 0 ] && mb=34
	head -c $((mb << 20)) /dev/urandom >"$P/data/big$((i % 3))"
	for _ in 1 2 3 4 5; do
		echo "round $i $RANDOM" >>"$P/src/f$((RANDOM % 60)).txt"
	done
	rm -f "$P/src/deep/er/g$((RANDOM % 20))"
	echo "new $i" >"$P/src/deep/er/g$((RANDOM % 20))"
	printf 'SECRET=%s\n' "$RANDOM" >"$P/.env"
}

for i in $(seq 0 59); do echo "file $i" >"$P/src/f$i.txt"; done
for i in $(seq 0 19); do echo "deep $i" >"$P/src/deep/er/g$i"; done
head -c $((8 << 20)) /dev/urandom >"$P/data/stable.bin"
ln -s src/f1.txt "$P/link"

names=()     # committed snapshot names, oldest first
manifests=() # their manifests (files in $T/m/)
mkdir -p "$T/m"

snap_count() { "$CKPTFS" log -p proj 2>/dev/null | grep -c . || true; }
latest_name() { "$CKPTFS" log -p proj -n 1 | awk '{print $1}'; }

# verify INDEX: snapshot names[INDEX] restores to exactly its manifest.
verify() {
	local k=$1
	rm -rf "$T/r"
	"$CKPTFS" restore . -p proj --from "${names[$k]}" --to "$T/r" >/dev/null ||
		fail "restore of ${names[$k]} exited $?"
	manifest "$T/r" >"$T/got"
	cmp -s "$T/got" "$T/m/$k" || {
		diff "$T/m/$k" "$T/got" | head -10 >&2
		fail "snapshot ${names[$k]} does not restore to the tree it saw"
	}
}

record_new_snapshot() {
	local mf=$1
	names+=("$(latest_name)")
	cp "$mf" "$T/m/$((${#names[@]} - 1))"
}

full_snap() {
	local before
	before=$(snap_count)
	manifest "$P" >"$T/cur"
	local t0
	t0=$(date +%s%N)
	"$CKPTFS" snap -q "$P" || fail "snap after a kill exited $?"
	snap_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	[ "$(snap_count)" = $((before + 1)) ] || fail "snap did not add exactly one snapshot"
	record_new_snapshot "$T/cur"
	verify $((${#names[@]} - 1))
}

# The first snapshot registers the project; the second is timed.
full_snap
# Calibrate: how long a snap of each kind of round takes.
mutate 5 # more than a pack of new data
full_snap
dur_big=$snap_ms
mutate 1
full_snap
dur_small=$snap_ms
echo "a snap takes ~${dur_small} ms (~${dur_big} ms with a pack's worth of new data); $rounds kill rounds"

kills=0 finished=0 committed=0 leftovers=0
i=1
while i=$((i + 1)); [ "$i" -le $((rounds + 1)) ] || { [ "$kills" -lt "$min_kills" ] && [ "$i" -le 601 ]; }; do
	mutate "$i"
	manifest "$P" >"$T/cur"
	before=$(snap_count)
	# Delays spread over 0..110% of a snap of this kind (a few land after
	# it ends: killing a finished process must be harmless too).
	dur_ms=$dur_small
	[ $((i % 5)) = 0 ] && dur_ms=$dur_big
	delay_ms=$(( RANDOM * dur_ms * 11 / 10 / 32768 ))
	"$CKPTFS" snap -q "$P" >/dev/null 2>&1 &
	pid=$!
	sleep "$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))"
	kill -9 $pid 2>/dev/null || true
	wait $pid 2>/dev/null && finished=$((finished + 1)) || kills=$((kills + 1))
	after=$(snap_count)
	if [ "$after" != "$before" ]; then
		[ "$after" = $((before + 1)) ] || fail "a killed snap added $((after - before)) snapshots"
		committed=$((committed + 1))
		record_new_snapshot "$T/cur"
	fi
	"$CKPTFS" check --read-data -q >"$T/check" 2>&1 ||
		{ cat "$T/check" >&2; fail "check --read-data after a kill at ${delay_ms} ms (round $i)"; }
	[ -n "$(ls -A "$CKPTFS_REPO/tmp" 2>/dev/null)" ] && leftovers=$((leftovers + 1))
	# check --read-data has just verified every blob of every snapshot
	# (authentic, hashing to its id, every chunk present); restoring the
	# newest, and now and then an older one, proves the same end to end.
	verify $((${#names[@]} - 1))
	[ $((i % 4)) = 0 ] && verify $((RANDOM % ${#names[@]}))
	full_snap
	# Progress (a long run takes most of an hour): figures so far.
	if [ $((i % 25)) = 0 ]; then
		echo "round $i: $kills killed, $finished finished first, $committed committed"
	fi
done
echo "snap: $kills killed, $finished finished first; $committed committed; $leftovers left temp files; all checks passed"
for k in "${!names[@]}"; do verify "$k"; done
echo "all ${#names[@]} snapshots restore byte for byte"

# ---- restore into the project -------------------------------------------
# Restore the first snapshot over the current tree; each file must then be
# its current (pre-restore) or its restored version.
old=0
rkills=0 torn_checked=0
mkdir -p "$T/hash"
hashes_of() { (cd "$1" && find . -type f ! -name '*.ckptfs-??????' -print0 | xargs -0 -r sha256sum); }
rstart=$(date +%s%N)
cp -a "$P" "$T/pcopy"
"$CKPTFS" restore . -p proj --from "${names[$old]}" >/dev/null || fail "restore into the project exited $?"
rdur_ms=$(( ($(date +%s%N) - rstart) / 1000000 ))
rm -rf "$P" && mv "$T/pcopy" "$P"
# Stale temp names (restore.h): the walk leaves exactly the pattern out,
# and a restore into the directory removes such regular files.  Planted
# ones make sure the short run sees them; killed restores make real ones.
temp_names() { find "$1" -name '.*.ckptfs-??????' -printf '%P\n' | LC_ALL=C sort; }
echo planted >"$P/src/.f1.txt.ckptfs-AbC123"
echo kept >"$P/src/.f1.txt.ckptfs-AbC12"
mkdir "$P/src/.dir.ckptfs-Zz9Zz9"
echo kept >"$P/src/.dir.ckptfs-Zz9Zz9/inner"
"$CKPTFS" snap -q "$P" || fail "snap with planted temp names"
rm -rf "$T/r2"
"$CKPTFS" restore . -p proj --to "$T/r2" >/dev/null || fail "restore of the planted snap"
[ ! -e "$T/r2/src/.f1.txt.ckptfs-AbC123" ] || fail "the walk stored a restore temp file"
[ -e "$T/r2/src/.f1.txt.ckptfs-AbC12" ] || fail "the walk left out a name that is not a temp name"
[ -e "$T/r2/src/.dir.ckptfs-Zz9Zz9/inner" ] || fail "the walk left out a directory with a temp-like name"
stale_rounds=0 stale_removed=0
for i in $(seq 1 "$rrounds"); do
	mutate $((1000 + i))
	hashes_of "$P" >"$T/hash/now"
	"$CKPTFS" snap -q "$P" || fail "snap before restore round $i"
	delay_ms=$(( RANDOM * rdur_ms / 32768 ))
	"$CKPTFS" restore . -p proj --from "${names[$old]}" >/dev/null 2>&1 &
	pid=$!
	sleep "$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))"
	kill -9 $pid 2>/dev/null || true
	wait $pid 2>/dev/null || rkills=$((rkills + 1))
	# Every file: pre-restore hash or the old snapshot's hash.
	while read -r h f; do
		if grep -qxF "$h  $f" "$T/hash/now" || grep -qxF "$h  $f" <(sed -n 's/^\([0-9a-f]\{64\}  \)/\1/p' "$T/m/$old"); then
			torn_checked=$((torn_checked + 1))
		else
			fail "restore killed at ${delay_ms} ms left $f neither old nor new"
		fi
	done < <(hashes_of "$P")
	"$CKPTFS" check -q >"$T/check" 2>&1 || { cat "$T/check" >&2; fail "check after a killed restore"; }
	# Leftover temp files: never stored by the next snap, removed by the
	# next restore into the project.
	temp_names "$P" | grep -v -e '^src/\.f1\.txt\.ckptfs-AbC12$' -e '^src/\.dir\.ckptfs-Zz9Zz9$' >"$T/temps" || true
	if [ -s "$T/temps" ]; then
		stale_rounds=$((stale_rounds + 1))
		stale_removed=$((stale_removed + $(wc -l <"$T/temps")))
		"$CKPTFS" snap -q "$P" || fail "snap over restore temp files"
		rm -rf "$T/r2"
		"$CKPTFS" restore . -p proj --to "$T/r2" >/dev/null || fail "restore of the snap over temp files"
		[ -z "$(temp_names "$T/r2" | grep -v -e 'AbC12$' -e 'Zz9Zz9$')" ] ||
			fail "a snap stored restore temp files: $(temp_names "$T/r2" | head -3)"
	fi
	"$CKPTFS" restore . -p proj --from "${names[$old]}" >/dev/null || fail "restore after a killed one exited $?"
	left=$(temp_names "$P" | grep -v -e '^src/\.f1\.txt\.ckptfs-AbC12$' -e '^src/\.dir\.ckptfs-Zz9Zz9$' || true)
	[ -z "$left" ] || fail "restore left stale temp files: $(echo "$left" | head -3)"
	[ -e "$P/src/.f1.txt.ckptfs-AbC12" ] && [ -e "$P/src/.dir.ckptfs-Zz9Zz9/inner" ] ||
		fail "restore removed an entry that is not a stale temp file"
done
echo "restore: $rkills kills, $torn_checked files checked old-or-new, none torn; $stale_rounds rounds left $stale_removed temp files: not stored, removed by the next restore"
"$CKPTFS" check --read-data -q || fail "final check --read-data"
if [ -n "${CKPTFS_FIGURES:-}" ]; then
	echo "crash snap_kills=$kills snap_finished=$finished committed=$committed restore_kills=$rkills files_checked=$torn_checked stale_temp_rounds=$stale_rounds stale_temps=$stale_removed snapshots=${#names[@]}" >>"$CKPTFS_FIGURES"
fi
