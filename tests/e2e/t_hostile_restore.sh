#!/bin/bash
# t_hostile_restore.sh — restore cannot be turned against the user, and the
# repository's secrets stay private.
#   - repository directory 0700, key 0600; a key readable by others is
#     refused at open with a message naming it;
#   - restore --to DEST never writes through a symlink planted in DEST;
#   - setuid/setgid bits and device nodes are not restored;
#   - restoring into the project takes a safety snapshot first;
#   - the mount is private to its owner.
. "$(dirname "$0")/lib.sh"

P=$T/proj
mkdir -p "$P/src"
echo hello >"$P/src/a.txt"
echo tool >"$P/src/tool"
chmod 4755 "$P/src/tool"
[ "$(id -u)" = 0 ] && mknod "$P/src/null" c 1 3
ck snap -q "$P"

# Permissions of what the repository holds.
[ "$(stat -c %a "$CKPTFS_REPO")" = 700 ] || fail "repository mode $(stat -c %a "$CKPTFS_REPO"), want 700"
[ "$(stat -c %a "$CKPTFS_REPO/key")" = 600 ] || fail "key mode $(stat -c %a "$CKPTFS_REPO/key"), want 600"
chmod 0644 "$CKPTFS_REPO/key"
expect_status 1 "$CKPTFS" log -p proj
grep -q "key" "$T/stderr" || { cat "$T/stderr" >&2; fail "a world-readable key is not reported"; }
echo "world-readable key refused: $(head -n1 "$T/stderr")"
chmod 0600 "$CKPTFS_REPO/key"

# A symlink planted in DEST pointing outside it.
mkdir -p "$T/dest" "$T/outside"
ln -s "$T/outside" "$T/dest/src"
rc=0
"$CKPTFS" restore . -p proj --to "$T/dest" >/dev/null 2>"$T/err" || rc=$?
[ -z "$(ls -A "$T/outside")" ] || fail "restore wrote through a symlink planted in DEST (exit $rc)"
echo "planted symlink: nothing written outside DEST (exit $rc: $(head -n1 "$T/err"))"

# No setuid bit, no device node.
rm -rf "$T/r"
ck restore . -p proj --to "$T/r" >/dev/null
[ -f "$T/r/src/tool" ] || fail "tool not restored"
[ $(( 0$(stat -c %a "$T/r/src/tool") & 06000 )) = 0 ] || fail "setuid bit restored"
if [ -e "$P/src/null" ] && [ -e "$T/r/src/null" ] && [ -c "$T/r/src/null" ]; then
	fail "device node restored"
fi
echo "setuid bit and device node not restored"

# Restoring into the project takes a safety snapshot first.
n=$("$CKPTFS" log -p proj | grep -c .)
echo "new content" >"$P/src/a.txt"
(cd "$P" && ck restore src/a.txt >/dev/null)
[ "$(cat "$P/src/a.txt")" = hello ] || fail "restore into the project did not restore"
[ "$("$CKPTFS" log -p proj | grep -c .)" -gt "$n" ] || fail "no safety snapshot before restoring into the project"
rm -rf "$T/r2"
ck restore src/a.txt -p proj --to "$T/r2/" >/dev/null
[ "$(cat "$T/r2/a.txt" 2>/dev/null || cat "$T/r2")" = "new content" ] ||
	fail "the safety snapshot does not hold the overwritten version"
echo "restore into the project: safety snapshot holds the overwritten file"

# The mount is private to its owner.
if "$CKPTFS" mount --help >/dev/null 2>&1 && [ -e /dev/fuse ] && id nobody >/dev/null 2>&1 &&
	command -v setpriv >/dev/null; then
	mount_ckpt "$T/mnt"
	chmod 755 "$T"
	if setpriv --reuid=nobody --regid=nogroup --clear-groups ls "$T/mnt/proj" >/dev/null 2>&1; then
		fail "another user can read the mount"
	fi
	grep " $T/mnt " /proc/mounts | grep -q allow_other && fail "mounted with allow_other"
	echo "mount: not readable by another user"
fi
