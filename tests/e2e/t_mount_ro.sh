#!/bin/bash
# Every write to the mount fails with EROFS; mount and umount say clearly
# what is wrong; -f serves in the foreground and SIGTERM unmounts cleanly.
. "$(dirname "$0")/lib.sh"

P=$T/proj
M=$T/mnt
mkdir -p "$P/dir"
printf 'data\n' >"$P/file"
printf 'x\n' >"$P/dir/inner"
setfattr -n user.k -v v "$P/file"
ck snap -q "$P"

# --- errors: one line, exit status 1 -------------------------------------------
expect_error() {
	local re=$1; shift
	expect_status 1 "$@"
	[ "$(wc -l <"$T/stderr")" = 1 ] || { cat "$T/stderr" >&2; fail "$*: want one line on stderr"; }
	grep -Eq "$re" "$T/stderr" || fail "$*: stderr is '$(cat "$T/stderr")', wanted /$re/"
}
expect_error "^ckptfs: mount point $T/nope: does not exist\$" "$CKPTFS" mount "$T/nope"
expect_error "^ckptfs: mount point $P/file: not a directory\$" "$CKPTFS" mount "$P/file"
expect_error "^ckptfs: mount point $P: not empty\$" "$CKPTFS" mount "$P"
mkdir "$M"
CKPTFS_REPO=$T/norepo expect_error "^ckptfs: no repository at $T/norepo" "$CKPTFS" mount "$M"
expect_error "^ckptfs: umount: |^ckptfs: $M: not mounted\$" "$CKPTFS" umount "$M"
expect_status 2 "$CKPTFS" mount
expect_status 2 "$CKPTFS" mount "$M" -o bogus
grep -q "unknown mount option" "$T/stderr" || fail "-o bogus: $(cat "$T/stderr")"
expect_status 2 "$CKPTFS" mount "$M" --cache-size 12x
"$CKPTFS" mount --help | grep -q "^usage: ckptfs mount" || fail "mount --help"
"$CKPTFS" umount --help | grep -q "^usage: ckptfs umount" || fail "umount --help"

mount_ckpt "$M" --cache-size 16M
expect_error "^ckptfs: mount point $M: ckptfs is already mounted there" "$CKPTFS" mount "$M"
# another file system on the mount point
if mkdir "$T/tmpfs" && mount -t tmpfs none "$T/tmpfs" 2>/dev/null; then
	_mounts+=("$T/tmpfs") # unmounted by lib.sh's trap if a check below fails
	expect_error "^ckptfs: mount point $T/tmpfs: already a mount point \(of tmpfs\)\$" "$CKPTFS" mount "$T/tmpfs"
	expect_error "^ckptfs: $T/tmpfs: not a ckptfs mount \(tmpfs is mounted there\)\$" "$CKPTFS" umount "$T/tmpfs"
	umount "$T/tmpfs"
fi

# --- the mount options --------------------------------------------------------------
opts=$(findmnt -n -o FSTYPE,SOURCE,OPTIONS "$M")
for o in fuse.ckptfs ckptfs ro nosuid nodev default_permissions; do
	[[ " ${opts//,/ } " == *" $o "* ]] || fail "mount lacks $o: $opts"
done
[[ $opts == *allow_other* ]] && fail "allow_other without -o allow_other"

# --- writes: EROFS everywhere -------------------------------------------------
S=$M/proj/latest
erofs() {
	local what=$1; shift
	if "$@" 2>"$T/err" >/dev/null; then fail "$what succeeded"; fi
	grep -q "Read-only file system" "$T/err" || fail "$what: $(cat "$T/err")"
}
for d in "$M" "$M/proj" "$S" "$S/dir"; do
	erofs "touch in $d" touch "$d/newfile"
	erofs "mkdir in $d" mkdir "$d/newdir"
	erofs "ln -s in $d" ln -s x "$d/newlink"
	erofs "mkfifo in $d" mkfifo "$d/newfifo"
done
erofs "rm" rm -f "$S/file"
erofs "rmdir" rmdir "$S/dir"
erofs "rm -r" rm -rf "$S/dir"
erofs "mv" mv "$S/file" "$S/file2"
erofs "mv out" mv "$S/file" "$T/file2"
erofs "ln" ln "$S/file" "$S/hard"
erofs "echo >" sh -c "echo x >'$S/file'"
erofs "echo >>" sh -c "echo x >>'$S/file'"
erofs "truncate" truncate -s 0 "$S/file"
erofs "chmod" chmod 777 "$S/file"
erofs "chown" chown 1:1 "$S/file"
erofs "touch existing" touch "$S/file"
erofs "setfattr" setfattr -n user.k -v w "$S/file"
erofs "setfattr -x" setfattr -x user.k "$S/file"
erofs "rm latest" rm "$M/proj/latest"
erofs "mv project" mv "$M/proj" "$M/proj2"
erofs "open O_RDWR" python3 -c 'import os,sys; os.open(sys.argv[1], os.O_RDWR)' "$S/file"
erofs "fallocate" fallocate -l 1M "$S/file"
[ "$(cat "$S/file")" = data ] || fail "file changed"
[ "$(getfattr --absolute-names --only-values -n user.k "$S/file")" = v ] || fail "xattr changed"
ck umount "$M"

# --- foreground: -f serves until SIGTERM, then unmounts -------------------------
"$CKPTFS" mount -f "$M" 2>"$T/fg.err" &
pid=$!
track_pid $pid
_mounts+=("$M")
wait_for 60 "-f did not mount" mountpoint -q "$M"
[ "$(cat "$M/proj/latest/file")" = data ] || fail "read in -f mode"
kill -TERM $pid
wait_for 60 "-f did not exit on SIGTERM" eval '! kill -0 $pid 2>/dev/null'
wait $pid || fail "-f exited $? on SIGTERM"
mountpoint -q "$M" && fail "still mounted after SIGTERM"

# --- background: SIGTERM to the server unmounts too ---------------------------
mount_ckpt "$M"
pid=$(pgrep -f "ckptfs mount $M") || fail "no server process"
kill -TERM $pid
wait_for 60 "still mounted after SIGTERM to the server" eval '! mountpoint -q "$M"'
wait_for 60 "server still running" eval '! kill -0 $pid 2>/dev/null'
# and the mount point is usable again
mount_ckpt "$M"
ck umount "$M"
echo ok
