#!/bin/bash
# t_gc_crash.sh — SIGKILL `ckptfs gc` at random instants.
#
# The base: a history whose gc deletes a dead pack and rewrites several
# packs of live data into more than one new pack (so kills land in the
# sweep, in pack writing, between a new pack's rename and its commit, and
# between a commit and the old packs' unlink).  Every round starts from
# the base (packs hard-linked: gc never changes a pack in place), starts
# gc and kills it after a random delay spread over a measured gc.  After
# every kill:
#   - check --read-data passes (leftovers are notices, not damage);
#   - every kept snapshot restores byte for byte;
#   - the next gc succeeds, and a gc after it has nothing left to do
#     (then check passes again: with --read-data and restores every 4th
#     round);
#   - the repository is then no larger than after an uninterrupted gc
#     (plus nothing: the interrupted run's leftovers are gone).
#
# Rounds: CKPTFS_GC_CRASH_ROUNDS, else with CKPTFS_LONG=1 until 200 gcs
# were killed mid-run (at most 600 rounds), else 6.  Figures go to
# $CKPTFS_FIGURES if set.
. "$(dirname "$0")/lib.sh"

min_kills=0
if [ -n "${CKPTFS_GC_CRASH_ROUNDS:-}" ]; then
	rounds=$CKPTFS_GC_CRASH_ROUNDS
elif [ "${CKPTFS_LONG:-0}" = 1 ]; then
	rounds=300 min_kills=200
else
	rounds=6
fi
RANDOM=1717

P=$T/proj
mkdir -p "$P/keep" "$P/src"
for i in $(seq 1 30); do echo "file $i" >"$P/src/f$i.txt"; done
manifest() {
	(cd "$1" && find . -mindepth 1 ! -name '*.ckptfs-??????' -printf '%y %P\n' | LC_ALL=C sort &&
		find . -type f ! -name '*.ckptfs-??????' -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum)
}
names=()
snap() {
	ck snap -q "$P" >/dev/null
	local n
	n=$("$CKPTFS" log -p proj -n 1 | awk '{print $1}')
	names+=("$n")
	manifest "$P" >"$T/m.$n"
	sleep 1.05
}
# Eight rounds: each keeps 8 MiB for good and 3 MiB of scratch for one
# snapshot; round 5 changes only the scratch (its pack dies whole).
for i in 1 2 3 4 5 6 7 8; do
	head -c $((3 << 20)) /dev/urandom >"$P/scratch.bin"
	if [ $i != 5 ]; then
		head -c $((8 << 20)) /dev/urandom >"$P/keep/k$i.bin"
		echo "round $i" >>"$P/src/f$i.txt"
	fi
	snap
done
keep=("${names[2]}" "${names[7]}")
# Forget the rest and empty the trash: their data is collectable.
ck forget -p proj "${names[0]}" "${names[1]}" "${names[3]}" "${names[4]}" "${names[5]}" "${names[6]}" >/dev/null
ck trash empty -p proj >/dev/null
mv "$CKPTFS_REPO" "$T/base"

packs_bytes() { find "$CKPTFS_REPO/packs" -name '*.pack' -printf '%s\n' | awk '{s += $1} END {print s + 0}'; }
fresh_repo() {
	rm -rf "$CKPTFS_REPO"
	mkdir -p "$CKPTFS_REPO"
	chmod 700 "$CKPTFS_REPO"
	# Packs are never written in place: hard links are a faithful copy.
	cp -al "$T/base/packs" "$CKPTFS_REPO/packs"
	(cd "$T/base" && find . -maxdepth 1 -mindepth 1 ! -name packs -exec cp -a {} "$CKPTFS_REPO/" \;)
}
verify_all() {
	for n in "${keep[@]}"; do
		rm -rf "$T/r"
		"$CKPTFS" restore . -p proj --from "$n" --to "$T/r" >/dev/null || fail "$1: restore of $n exited $?"
		manifest "$T/r" >"$T/got"
		cmp -s "$T/got" "$T/m.$n" || { diff "$T/m.$n" "$T/got" | head >&2; fail "$1: snapshot $n does not restore to the tree it saw"; }
	done
}

# The reference: an uninterrupted gc.
fresh_repo
start=$(date +%s%N)
ck gc --json >"$T/ref.json"
gc_ms=$(( ($(date +%s%N) - start) / 1000000 ))
ref_bytes=$(packs_bytes)
python3 - "$T/ref.json" <<'PY' || fail "the reference gc did not delete and rewrite as designed"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["packs_deleted"] >= 1 and d["packs_repacked"] >= 5 and d["packs_written"] >= 2, d
PY
verify_all "uninterrupted gc"
echo "an uninterrupted gc takes ~${gc_ms} ms and leaves $ref_bytes bytes of packs; $rounds rounds"

kills=0 finished=0 leftovers=0 i=0
while i=$((i + 1)); [ "$i" -le "$rounds" ] || { [ "$kills" -lt "$min_kills" ] && [ "$i" -le 600 ]; }; do
	fresh_repo
	delay_ms=$(( RANDOM * gc_ms * 11 / 10 / 32768 ))
	"$CKPTFS" gc >/dev/null 2>"$T/err" &
	pid=$!
	sleep "$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))"
	kill -9 $pid 2>/dev/null || true
	if wait $pid 2>/dev/null; then finished=$((finished + 1)); else kills=$((kills + 1)); fi
	"$CKPTFS" check --read-data >"$T/check" 2>&1 ||
		{ cat "$T/check" >&2; fail "check --read-data after a kill at ${delay_ms} ms (round $i)"; }
	grep -q '^notice: ' "$T/check" && leftovers=$((leftovers + 1))
	verify_all "kill at ${delay_ms} ms (round $i)"
	"$CKPTFS" gc >"$T/gc" 2>&1 || { cat "$T/gc" >&2; fail "gc after a kill at ${delay_ms} ms exited $?"; }
	"$CKPTFS" gc >"$T/gc" 2>&1 || { cat "$T/gc" >&2; fail "the third gc exited $?"; }
	grep -Eq '^gc: [0-9]+ packs, 0 repacked, 0 deleted; [^;]*; [^;]*$' "$T/gc" ||
		{ cat "$T/gc" >&2; fail "gc after the one finishing a killed run still had work (round $i)"; }
	got=$(packs_bytes)
	[ "$got" -le $((ref_bytes + ref_bytes / 20)) ] || fail "round $i: $got bytes of packs after finishing, $ref_bytes without a kill"
	# The finished state too (in full every 4th round, to keep rounds short).
	if [ $((i % 4)) = 0 ]; then
		ck check --read-data -q
		verify_all "gc after a kill at ${delay_ms} ms (round $i)"
	else
		ck check -q
	fi
	[ $((i % 25)) = 0 ] && echo "round $i: $kills killed, $finished finished first"
done
echo "gc: $kills killed mid-run, $finished finished first; $leftovers rounds left leftovers (notices); all checks and restores passed"
[ "$kills" -ge "$min_kills" ] || fail "only $kills kills landed mid-run (wanted $min_kills)"
if [ -n "${CKPTFS_FIGURES:-}" ]; then
	echo "gc_crash kills=$kills finished=$finished leftovers=$leftovers gc_ms=$gc_ms" >>"$CKPTFS_FIGURES"
fi
