#!/bin/bash
# t_valgrind.sh — snap, log, restore, check and a mount under valgrind:
# no invalid access, no use of uninitialised memory, no definite or
# indirect leak (exit 99 from valgrind fails the test).
# Skipped without valgrind, and for a sanitizer build (ASan and valgrind
# do not mix).
. "$(dirname "$0")/lib.sh"

command -v valgrind >/dev/null || skip "valgrind not installed"
case $CKPTFS in */build/san/*) skip "sanitizer build: valgrind would not work" ;; esac

VG=(valgrind -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect
	--errors-for-leak-kinds=definite,indirect --track-fds=no)
vg() { "${VG[@]}" "$CKPTFS" "$@"; }

P=$T/proj
mkdir -p "$P/src/sub"
for i in $(seq 1 20); do echo "file $i" >"$P/src/f$i"; done
head -c $((700 << 10)) /dev/urandom >"$P/src/sub/blob.bin"
ln -s f1 "$P/src/link"
echo "KEY=1" >"$P/.env"
vg snap -q -m first "$P" || fail "snap under valgrind exited $?"
echo changed >>"$P/src/f2"
vg snap -q "$P" || fail "second snap under valgrind exited $?"
vg log -p proj >/dev/null || fail "log under valgrind exited $?"
vg restore . -p proj --to "$T/r" >/dev/null || fail "restore under valgrind exited $?"
same_tree "$P" "$T/r"
vg check --read-data -q || fail "check under valgrind exited $?"

if "$CKPTFS" mount --help >/dev/null 2>&1 && [ -e /dev/fuse ]; then
	mkdir -p "$T/mnt"
	_mounts+=("$T/mnt")
	# valgrind itself in the background ($! is the process to signal).
	"${VG[@]}" "$CKPTFS" mount -f "$T/mnt" 2>"$T/mount.err" &
	mpid=$!
	track_pid $mpid
	# Up when mounted (was: at most 10 s, short for valgrind on a loaded
	# machine); a server that died fails at once.
	up() { mountpoint -q "$T/mnt" || { kill -0 $mpid 2>/dev/null || { cat "$T/mount.err" >&2; fail "mount under valgrind exited"; }; false; }; }
	wait_for 300 "mount under valgrind did not come up" up
	cmp "$P/src/sub/blob.bin" "$T/mnt/proj/latest/src/sub/blob.bin" || fail "file read through the mount differs"
	ls -la "$T/mnt/proj/" "$T/mnt/proj/latest/src" >/dev/null
	# Unmount at once (RELEASEDIR of the listings may still be in flight),
	# and end the session while a directory and a file are still open:
	# their handles never get a release and must be freed at the end.
	exec 8<"$T/mnt/proj/latest/src/f1" 9<"$T/mnt/proj/latest/src"
	fusermount3 -uz "$T/mnt"
	kill -TERM $mpid
	rc=0
	wait $mpid || rc=$?
	exec 8<&- 9<&-
	[ $rc = 0 ] || { cat "$T/mount.err" >&2; fail "mount under valgrind exited $rc"; }
fi
echo "valgrind: snap, log, restore, check${mpid:+, mount}: clean"
