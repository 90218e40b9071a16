#!/bin/bash
# t_fault.sh — make the Nth write/pwrite/fsync/fdatasync/rename/open on the
# repository fail (ENOSPC or EIO) during a snap, for N swept across the
# snap, through the LD_PRELOAD shim tests/fault/faultinject.c.
#
# Each fault must give: a non-zero exit with "ckptfs: <message>" lines only
# on stderr, no new snapshot (or, if the fault came after the commit, a
# complete and correct one), a repository check --read-data passes, and a
# next snap (without faults) that succeeds and restores byte for byte.
#
# Every N when CKPTFS_LONG=1; else about 6 points per call, spread.
# Figures go to $CKPTFS_FIGURES if set.
. "$(dirname "$0")/lib.sh"

lib=${CKPTFS_FAULTLIB:-}
[ -n "$lib" ] && [ -f "$lib" ] || skip "no fault injection library (CKPTFS_FAULTLIB; make builds it)"
# An ASan binary wants its runtime first; the shim only wraps libc calls.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"

P=$T/proj
mkdir -p "$P/src" "$P/data"
for i in $(seq 1 30); do echo "file $i" >"$P/src/f$i"; done
head -c $((3 << 20)) /dev/urandom >"$P/data/a.bin"
echo "SECRET=1" >"$P/.env"
ck snap -q "$P"

# The state every sweep point starts from: one snapshot taken, new data
# waiting in the project.
head -c $((2 << 20)) /dev/urandom >"$P/data/b.bin"
for i in $(seq 1 10); do echo "changed $i" >>"$P/src/f$i"; done
cp -a "$CKPTFS_REPO" "$T/base"

manifest() {
	(cd "$1" && find . -mindepth 1 -printf '%y %P\n' | LC_ALL=C sort &&
		find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum)
}
manifest "$P" >"$T/want"
nsnaps() { "$CKPTFS" log -p proj | grep -c .; }

fresh_repo() {
	rm -rf "$CKPTFS_REPO"
	cp -a "$T/base" "$CKPTFS_REPO"
}

# verify_latest: the newest snapshot restores to the project as it is.
verify_latest() {
	rm -rf "$T/r"
	"$CKPTFS" restore . -p proj --to "$T/r" >/dev/null || fail "restore exited $?"
	manifest "$T/r" >"$T/got"
	cmp -s "$T/want" "$T/got" || { diff "$T/want" "$T/got" | head >&2; fail "$1: restored tree differs"; }
}

faults=0 failed_clean=0 after_commit=0 tolerated=0 points=0
for call in write pwrite fsync fdatasync rename open; do
	fresh_repo
	FAULT_CALL=$call FAULT_NTH=0 FAULT_REPORT=$T/rep LD_PRELOAD=$lib \
		"$CKPTFS" snap -q "$P" >/dev/null 2>"$T/err" || { cat "$T/err" >&2; fail "counting run of $call failed"; }
	calls=$(sed -n 's/calls=\([0-9]*\).*/\1/p' "$T/rep")
	[ -n "$calls" ] || fail "no call count for $call"
	if [ "${CKPTFS_LONG:-0}" = 1 ] || [ "$calls" -le 6 ]; then
		ns=$(seq 1 "$calls")
	else
		# First, last and a spread in between.
		ns=$(printf '%s\n' 1 2 $((calls / 3)) $((calls / 2)) $((calls * 4 / 5)) "$calls" | sort -nu)
	fi
	echo "$call: $calls calls on the repository during a snap; injecting at: $(echo $ns)"
	for n in $ns; do
		points=$((points + 1))
		err=EIO
		[ $((n % 2)) = 0 ] && err=ENOSPC
		fresh_repo
		before=$(nsnaps)
		rc=0
		FAULT_CALL=$call FAULT_NTH=$n FAULT_ERRNO=$err FAULT_REPORT=$T/rep LD_PRELOAD=$lib \
			"$CKPTFS" snap -q "$P" >/dev/null 2>"$T/err" || rc=$?
		grep -q 'injected=1' "$T/rep" || continue
		faults=$((faults + 1))
		after=$(nsnaps)
		what="$call #$n ($err)"
		echo "  $what: exit $rc: $(head -n1 "$T/err")"
		if [ $rc = 0 ]; then
			# The store may legitimately survive a fault (a retried
			# call); then the snapshot must be whole.
			tolerated=$((tolerated + 1))
			[ "$after" = $((before + 1)) ] || fail "$what: exit 0 but no new snapshot"
			verify_latest "$what"
		else
			[ -s "$T/err" ] || fail "$what: exit $rc with no message"
			if grep -qv '^ckptfs: ' "$T/err"; then
				cat "$T/err" >&2
				fail "$what: stderr holds more than ckptfs: messages"
			fi
			[ "$(wc -l <"$T/err")" -le 2 ] || { cat "$T/err" >&2; fail "$what: more than two error lines"; }
			if [ "$after" = "$before" ]; then
				failed_clean=$((failed_clean + 1))
			elif [ "$after" = $((before + 1)) ]; then
				# Failed after the commit point: the snapshot is whole.
				after_commit=$((after_commit + 1))
				verify_latest "$what (committed)"
			else
				fail "$what: snapshots went from $before to $after"
			fi
		fi
		"$CKPTFS" check --read-data -q >"$T/check" 2>&1 ||
			{ cat "$T/err" "$T/check" >&2; fail "$what: check --read-data fails afterwards"; }
		"$CKPTFS" snap -q "$P" || fail "$what: the next snap exited $?"
		verify_latest "$what: next snap"
	done
done
echo "fault points tried: $points, faults injected: $faults; failed cleanly: $failed_clean," \
	"failed after commit (snapshot whole): $after_commit, survived: $tolerated"
[ "$faults" -gt 0 ] || fail "no fault was ever injected"
if [ -n "${CKPTFS_FIGURES:-}" ]; then
	echo "fault points=$points injected=$faults clean=$failed_clean after_commit=$after_commit survived=$tolerated" >>"$CKPTFS_FIGURES"
fi
