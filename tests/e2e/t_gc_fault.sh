#!/bin/bash
# t_gc_fault.sh — make the Nth write/pwrite/fsync/rename/unlink/open on the
# repository fail (ENOSPC or EIO) during a gc, for N swept across the gc,
# through the LD_PRELOAD shim tests/fault/faultinject.c; then a disk that
# stays full (every write from the Nth on fails with ENOSPC).
#
# Each fault must give: exit 0 or 1 with "ckptfs: <message>" lines only on
# stderr, a repository that check --read-data passes, every kept snapshot
# restoring byte for byte, a catalog listing no more pack bytes than
# before (space freed stays freed), and a next gc (without faults) that
# finishes the job.
#
# Every N when CKPTFS_LONG=1; else about 6 points per call, spread.
. "$(dirname "$0")/lib.sh"

lib=${CKPTFS_FAULTLIB:-}
[ -n "$lib" ] && [ -f "$lib" ] || skip "no fault injection library (CKPTFS_FAULTLIB; make builds it)"
command -v sqlite3 >/dev/null || skip "no sqlite3 to read the pack list"
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"

P=$T/proj
mkdir -p "$P/keep" "$P/src"
for i in $(seq 1 20); do echo "file $i" >"$P/src/f$i.txt"; done
manifest() {
	(cd "$1" && find . -mindepth 1 -printf '%y %P\n' | LC_ALL=C sort &&
		find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum)
}
names=()
for i in 1 2 3 4 5; do
	head -c $((1 << 20)) /dev/urandom >"$P/scratch.bin"
	if [ $i != 3 ]; then
		head -c $((2 << 20)) /dev/urandom >"$P/keep/k$i.bin"
		echo "round $i" >>"$P/src/f$i.txt"
	fi
	ck snap -q "$P" >/dev/null
	n=$("$CKPTFS" log -p proj -n 1 | awk '{print $1}')
	names+=("$n")
	manifest "$P" >"$T/m.$n"
	sleep 1.05
done
keep=("${names[1]}" "${names[4]}")
ck forget -p proj "${names[0]}" "${names[2]}" "${names[3]}" >/dev/null
ck trash empty -p proj >/dev/null
mv "$CKPTFS_REPO" "$T/base"

packs_bytes() { find "$CKPTFS_REPO/packs" -name '*.pack' -printf '%s\n' | awk '{s += $1} END {print s + 0}'; }
# Bytes of the packs the catalog lists.
listed_bytes() { sqlite3 "$CKPTFS_REPO/catalog.db" "SELECT coalesce(sum(size), 0) FROM packs"; }
fresh_repo() {
	rm -rf "$CKPTFS_REPO"
	mkdir -p "$CKPTFS_REPO"
	chmod 700 "$CKPTFS_REPO"
	cp -al "$T/base/packs" "$CKPTFS_REPO/packs" # gc never writes a pack in place
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
fresh_repo
base_bytes=$(packs_bytes)
ck gc >/dev/null
ref_bytes=$(packs_bytes)
[ "$ref_bytes" -lt "$base_bytes" ] || fail "the reference gc freed nothing"

# after_fault WHAT RC: the checks every fault point ends with.
after_fault() {
	local what=$1 rc=$2
	if [ "$rc" != 0 ]; then
		[ "$rc" = 1 ] || { cat "$T/err" >&2; fail "$what: exit $rc"; }
		[ -s "$T/err" ] || fail "$what: exit 1 with no message"
		grep -qv '^ckptfs: ' "$T/err" && { cat "$T/err" >&2; fail "$what: stderr holds more than ckptfs: lines"; }
		[ "$(wc -l <"$T/err")" -le 2 ] || { cat "$T/err" >&2; fail "$what: more than two error lines"; }
	fi
	# The catalog never lists more than before.  Files it does not list may
	# stay: a new pack whose commit failed (journalled: the commit may yet
	# be durable, SQLite cannot say) and an old pack whose unlink failed
	# after its rows went; the next gc deletes both (checked below).
	[ "$(listed_bytes)" -le "$base_bytes" ] || fail "$what: the catalog lists more pack bytes than before gc"
	"$CKPTFS" check --read-data -q >"$T/check" 2>&1 || { cat "$T/err" "$T/check" >&2; fail "$what: check --read-data fails afterwards"; }
	verify_all "$what"
	"$CKPTFS" gc >"$T/gc" 2>&1 || { cat "$T/gc" >&2; fail "$what: the next gc exited $?"; }
	"$CKPTFS" gc >"$T/gc" 2>&1 || { cat "$T/gc" >&2; fail "$what: the gc after exited $?"; }
	grep -Eq '^gc: [0-9]+ packs, 0 repacked, 0 deleted' "$T/gc" || { cat "$T/gc" >&2; fail "$what: the job was not finished"; }
	[ "$(packs_bytes)" -le $((ref_bytes + ref_bytes / 20)) ] || fail "$what: $(packs_bytes) bytes after finishing, $ref_bytes without a fault"
}

points=0 faults=0 failed=0 survived=0
for call in write pwrite fsync rename unlink open; do
	fresh_repo
	FAULT_CALL=$call FAULT_NTH=0 FAULT_REPORT=$T/rep LD_PRELOAD=$lib "$CKPTFS" gc >/dev/null 2>"$T/err" ||
		{ cat "$T/err" >&2; fail "counting run of $call failed"; }
	calls=$(sed -n 's/calls=\([0-9]*\).*/\1/p' "$T/rep")
	if [ "${CKPTFS_LONG:-0}" = 1 ] || [ "$calls" -le 6 ]; then
		ns=$(seq 1 "$calls")
	else
		ns=$(printf '%s\n' 1 2 $((calls / 3)) $((calls / 2)) $((calls * 4 / 5)) "$calls" | sort -nu)
	fi
	echo "$call: $calls calls on the repository during a gc; injecting at: $(echo $ns)"
	for n in $ns; do
		points=$((points + 1))
		err=EIO
		[ $((n % 2)) = 0 ] && err=ENOSPC
		fresh_repo
		rc=0
		FAULT_CALL=$call FAULT_NTH=$n FAULT_ERRNO=$err FAULT_REPORT=$T/rep LD_PRELOAD=$lib \
			"$CKPTFS" gc >/dev/null 2>"$T/err" || rc=$?
		grep -q 'injected=1' "$T/rep" || continue
		faults=$((faults + 1))
		[ "$rc" = 0 ] && survived=$((survived + 1)) || failed=$((failed + 1))
		echo "  $call #$n ($err): exit $rc: $(head -n1 "$T/err")"
		after_fault "$call #$n ($err)" "$rc"
	done
done

# A disk that stays full from the Nth write on.
fresh_repo
FAULT_CALL=write FAULT_NTH=0 FAULT_REPORT=$T/rep LD_PRELOAD=$lib "$CKPTFS" gc >/dev/null 2>&1
calls=$(sed -n 's/calls=\([0-9]*\).*/\1/p' "$T/rep")
freed_and_stopped=0
for n in $(printf '%s\n' 1 $((calls / 4)) $((calls / 2)) $((calls * 3 / 4)) "$calls" | sort -nu); do
	[ "$n" -ge 1 ] || continue
	fresh_repo
	rc=0
	FAULT_CALL=write FAULT_NTH=$n FAULT_STICKY=1 FAULT_ERRNO=ENOSPC LD_PRELOAD=$lib \
		"$CKPTFS" gc >/dev/null 2>"$T/err" || rc=$?
	now=$(listed_bytes)
	echo "  full disk from write #$n: exit $rc, packs $base_bytes -> $now bytes: $(head -n1 "$T/err")"
	[ "$rc" = 1 ] && [ "$now" -lt "$base_bytes" ] && freed_and_stopped=$((freed_and_stopped + 1))
	after_fault "full disk from write #$n" "$rc"
done
echo "fault points: $points, injected: $faults (failed cleanly: $failed, survived: $survived);" \
	"full disk: $freed_and_stopped runs stopped with their freed space kept"
[ "$faults" -gt 0 ] || fail "no fault was ever injected"
[ "$freed_and_stopped" -gt 0 ] || fail "no full-disk run stopped after freeing space"
if [ -n "${CKPTFS_FIGURES:-}" ]; then
	echo "gc_fault points=$points injected=$faults failed=$failed survived=$survived full_disk_kept=$freed_and_stopped" >>"$CKPTFS_FIGURES"
fi
