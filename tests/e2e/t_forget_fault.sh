#!/bin/bash
# t_forget_fault.sh — make the Nth write/pwrite/fsync/fdatasync/rename/
# open/unlink on the repository fail (ENOSPC or EIO) during forget, trash
# restore and trash empty, for N swept across each command, through the
# LD_PRELOAD shim tests/fault/faultinject.c.
#
# Each fault must give: exit 0 or 1, with one or two "ckptfs: <message>"
# lines only on stderr; a catalog in the state before the command or in
# the state after it, never between (which snapshots are live, which in
# the trash: each command is one transaction); nothing lost (every
# snapshot is still live or in the trash, except those trash empty was
# asked to end); check clean; and the same command run again without a
# fault reaching the state after.  At the end of each command's sweep,
# check --read-data and a byte-for-byte restore of every snapshot.
#
# Every N when CKPTFS_LONG=1; else about 5 points per call family, spread.
. "$(dirname "$0")/lib.sh"

lib=${CKPTFS_FAULTLIB:-}
[ -n "$lib" ] && [ -f "$lib" ] || skip "no fault injection library (CKPTFS_FAULTLIB; make builds it)"
command -v sqlite3 >/dev/null || skip "no sqlite3 to read the catalog's state"
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
export XDG_CONFIG_HOME=$T/config # no user config: the built-in trash window

P=$T/proj
mkdir -p "$P/src"
manifest() {
	(cd "$1" && find . -mindepth 1 -printf '%y %P\n' | LC_ALL=C sort &&
		find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum)
}
names=()
for i in 1 2 3 4 5 6; do
	echo "round $i" >"$P/src/f$i.txt"
	head -c $((64 << 10)) /dev/urandom >"$P/src/r$i.bin"
	ck snap -q "$P" >/dev/null
	n=$("$CKPTFS" log -p proj -n 1 | awk '{print $1}')
	names+=("$n")
	manifest "$P" >"$T/m.$n"
	sleep 1.05 # a new minute-second name each time
done
gone=("${names[1]}" "${names[3]}") # forgotten, restored, emptied below

# The catalog's state: every snapshot row, live or in the trash.
state() {
	sqlite3 "$CKPTFS_REPO/catalog.db" \
		"SELECT name || (CASE WHEN trashed_at_ns IS NULL THEN ' live' ELSE ' trash' END)
		 FROM snapshots ORDER BY name"
}

# Three bases: all live (for forget), two in the trash (for restore and
# empty), and the states each command leads to.
mv "$CKPTFS_REPO" "$T/base.live"
cp -a "$T/base.live" "$CKPTFS_REPO"
ck forget -p proj "${gone[@]}" >/dev/null
mv "$CKPTFS_REPO" "$T/base.trash"
use_base() {
	rm -rf "$CKPTFS_REPO"
	cp -a "$T/base.$1" "$CKPTFS_REPO"
}

# sweep BASE NAME ARGS...: the command "ckptfs ARGS" on a copy of base BASE.
points=0 faults=0 failed=0 survived=0
sweep() {
	local base=$1 what=$2; shift 2
	use_base "$base"
	state >"$T/before"
	ck "$@" >/dev/null
	state >"$T/after"
	cmp -s "$T/before" "$T/after" && fail "$what: the command changes nothing"
	local call calls ns n err rc
	for call in write pwrite fsync fdatasync rename open unlink; do
		use_base "$base"
		FAULT_CALL=$call FAULT_NTH=0 FAULT_REPORT=$T/rep LD_PRELOAD=$lib "$CKPTFS" "$@" \
			>/dev/null 2>"$T/err" || { cat "$T/err" >&2; fail "$what: counting run of $call failed"; }
		calls=$(sed -n 's/calls=\([0-9]*\).*/\1/p' "$T/rep")
		[ "$calls" -gt 0 ] || continue
		if [ "${CKPTFS_LONG:-0}" = 1 ] || [ "$calls" -le 5 ]; then
			ns=$(seq 1 "$calls")
		else
			ns=$(printf '%s\n' 1 $((calls / 3)) $((calls / 2)) $((calls * 4 / 5)) "$calls" | sort -nu)
		fi
		echo "$what: $calls $call calls on the repository; injecting at: $(echo $ns)"
		for n in $ns; do
			points=$((points + 1))
			err=EIO
			[ $((n % 2)) = 0 ] && err=ENOSPC
			use_base "$base"
			rc=0
			FAULT_CALL=$call FAULT_NTH=$n FAULT_ERRNO=$err FAULT_REPORT=$T/rep LD_PRELOAD=$lib \
				"$CKPTFS" "$@" >/dev/null 2>"$T/err" || rc=$?
			grep -q 'injected=1' "$T/rep" || continue
			faults=$((faults + 1))
			[ "$rc" = 0 ] && survived=$((survived + 1)) || failed=$((failed + 1))
			after_fault "$what, $call #$n ($err)" "$rc" "$@"
		done
	done
	# Once per command: the data itself, after the last fault point.
	"$CKPTFS" check --read-data -q >"$T/check" 2>&1 || { cat "$T/check" >&2; fail "$what: check --read-data"; }
	local s
	for s in "${names[@]}"; do
		grep -q "^$s live" "$T/after" || continue
		rm -rf "$T/r"
		"$CKPTFS" restore . -p proj --from "$s" --to "$T/r" >/dev/null || fail "$what: restore of $s"
		manifest "$T/r" >"$T/got"
		cmp -s "$T/got" "$T/m.$s" || fail "$what: $s does not restore to the tree it saw"
	done
}

# after_fault WHAT RC ARGS...: the checks every fault point ends with.
after_fault() {
	local what=$1 rc=$2; shift 2
	if [ "$rc" != 0 ]; then
		[ "$rc" = 1 ] || { cat "$T/err" >&2; fail "$what: exit $rc"; }
		[ -s "$T/err" ] || fail "$what: exit 1 with no message"
		grep -qv '^ckptfs: ' "$T/err" && { cat "$T/err" >&2; fail "$what: stderr holds more than ckptfs: lines"; }
		[ "$(wc -l <"$T/err")" -le 2 ] || { cat "$T/err" >&2; fail "$what: more than two error lines"; }
	fi
	state >"$T/now"
	if cmp -s "$T/now" "$T/after"; then
		[ "$rc" = 0 ] || echo "  $what: exit 1 but done (the commit was durable before the fault)"
	elif cmp -s "$T/now" "$T/before"; then
		[ "$rc" = 1 ] || fail "$what: exit 0 but nothing done"
	else
		diff "$T/before" "$T/now" >&2 || true
		fail "$what: the catalog is neither as before nor as after the command"
	fi
	"$CKPTFS" check -q >"$T/check" 2>&1 || { cat "$T/err" "$T/check" >&2; fail "$what: check fails afterwards"; }
	# The same command again, without a fault, finishes the job; trash
	# empty and restore of what is already done are refused or no-ops.
	if ! cmp -s "$T/now" "$T/after"; then
		"$CKPTFS" "$@" >/dev/null 2>"$T/err2" || { cat "$T/err2" >&2; fail "$what: the command again exited $?"; }
		state >"$T/now"
		cmp -s "$T/now" "$T/after" || fail "$what: the command again did not reach the state after"
	fi
}

sweep live forget forget -p proj "${gone[@]}"
sweep trash "trash restore" trash restore -p proj "${gone[@]}"
sweep trash "trash empty" trash empty -p proj
echo "fault points: $points, injected: $faults (failed cleanly: $failed, survived: $survived)"
[ "$faults" -gt 0 ] || fail "no fault was ever injected"
[ "$failed" -gt 0 ] || fail "no fault made a command fail"
if [ -n "${CKPTFS_FIGURES:-}" ]; then
	echo "forget_fault points=$points injected=$faults failed=$failed survived=$survived" >>"$CKPTFS_FIGURES"
fi
