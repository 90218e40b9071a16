#!/bin/bash
# t_hostile_mount.sh — a snapshot with hostile tree entries (made by
# tests/tools/mkhostile: a directory holding "..", one holding "a/b", one
# whose file's size disagrees with its chunks, one whose tree is a data
# blob): the mount answers EIO for exactly those directories, logs why,
# and serves the rest; restore fails with a clear error, restores the
# rest, and writes nothing outside its destination.
. "$(dirname "$0")/lib.sh"

MK=${CKPTFS_MKHOSTILE:-}
[ -n "$MK" ] && [ -x "$MK" ] || skip "no mkhostile tool (make e2e builds it)"
[ -e /dev/fuse ] && command -v fusermount3 >/dev/null || skip "no FUSE"

P=$T/proj
mkdir -p "$P"
echo first >"$P/first.txt"
ck snap -q "$P"
name=$("$MK" "$CKPTFS_REPO" proj) || fail "mkhostile exited $?"
[ "$("$CKPTFS" log -p proj -n 1 | awk '{print $1}')" = "$name" ] || fail "the hostile snapshot is not the newest"

M=$T/mnt
mkdir -p "$M"
_mounts+=("$M")
"$CKPTFS" mount -f "$M" 2>"$T/log" &
track_pid $!
mpid=$!
# Up when mounted (was: at most 5 s, short for a loaded machine); a server
# that died fails at once.
up() { mountpoint -q "$M" || { kill -0 $mpid 2>/dev/null || { cat "$T/log" >&2; fail "mount exited"; }; false; }; }
wait_for 120 "not mounted" up
S=$M/proj/$name

# What is sound reads fine.
[ "$(cat "$S/good.txt")" = good ] || fail "good.txt"
[ "$(cat "$S/sub/ok.txt")" = ok ] || fail "sub/ok.txt"
[ "$(ls "$S" | LC_ALL=C sort | tr '\n' ' ')" = "badsize dotdot good.txt notatree slash sub " ] ||
	fail "root listing: $(ls "$S")"
# Each hostile directory: EIO (never ENOENT, never a listing), and again
# on a second try (errors are not cached as data).
for d in dotdot slash badsize notatree; do
	for try in 1 2; do
		if ls "$S/$d" >"$T/out" 2>"$T/err"; then fail "listing $d succeeded: $(cat "$T/out")"; fi
		grep -q "Input/output error" "$T/err" || fail "$d (try $try): not EIO: $(cat "$T/err")"
	done
	if cat "$S/$d/f" 2>"$T/err"; then fail "reading through $d succeeded"; fi
	grep -q "Input/output error" "$T/err" || fail "$d/f: not EIO: $(cat "$T/err")"
	grep -q "proj/$name/$d" "$T/log" || { cat "$T/log" >&2; fail "the log does not name $d"; }
done
grep -q "notatree: tree [0-9a-f]*: missing from the repository" "$T/log" || { cat "$T/log" >&2; fail "log: notatree"; }
# The mount still works afterwards, older snapshots too.
[ "$(cat "$S/good.txt")" = good ] || fail "good.txt after the errors"
[ "$(cat "$M/proj/latest/sub/ok.txt")" = ok ] || fail "latest/sub/ok.txt"
first=$("$CKPTFS" log -p proj | awk 'END {print $1}')
[ "$(cat "$M/proj/$first/first.txt")" = first ] || fail "the first snapshot"
ck umount "$M"

# restore: a clear error, the sound part restored, nothing outside DEST.
mkdir -p "$T/dest"
expect_status 1 "$CKPTFS" restore . -p proj --to "$T/dest/r"
grep -q '^ckptfs: ' "$T/stderr" || fail "restore: no ckptfs: message: $(cat "$T/stderr")"
grep -Eq 'dotdot|slash|badsize|notatree' "$T/stderr" || fail "restore: the error names no path: $(cat "$T/stderr")"
[ "$(cat "$T/dest/r/good.txt")" = good ] || fail "restore: good.txt"
[ "$(cat "$T/dest/r/sub/ok.txt")" = ok ] || fail "restore: sub/ok.txt"
[ "$(ls -A "$T/dest")" = r ] || fail "restore wrote outside its destination: $(ls -A "$T/dest")"
[ ! -e "$T/dest/r/slash/a" ] && [ ! -e "$T/dest/r/dotdot/f" ] || fail "restore trusted a hostile tree"
# Restoring one hostile directory alone fails too.
expect_status 1 "$CKPTFS" restore dotdot -p proj --to "$T/dest/d"
grep -q '^ckptfs: ' "$T/stderr" || fail "restore dotdot: $(cat "$T/stderr")"
# check names every one of them.
expect_status 1 "$CKPTFS" check
for d in dotdot slash badsize notatree; do
	grep -q "$d" "$T/stdout" "$T/stderr" || fail "check does not name $d"
done
echo "hostile mount: 4 hostile directories EIO, the rest served; restore and check refuse them"
