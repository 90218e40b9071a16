#!/bin/bash
# t_fullfs.sh — a real full disk: the repository on a small tmpfs.
#
# With the free space cut to various sizes below what a snap needs, a snap
# must fail with one clear "ckptfs:" line and a non-zero exit, commit
# nothing, and leave a repository that check --read-data passes once space
# is freed (readers need a few KiB for SQLite's shared-memory file, so they
# are run after freeing it); the next snap then works and restores byte
# for byte.
# Needs root (mount); skipped otherwise.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || skip "needs root to mount a tmpfs"
small=$T/small
mkdir -p "$small"
mount -t tmpfs -o size=4m,mode=0700 tmpfs "$small" 2>/dev/null || skip "cannot mount a tmpfs here"
_fullfs_umount() { umount -l "$small" 2>/dev/null || true; }
# lib.sh's trap removes $T; unmount first, keeping the exit status.
trap '_rc=$?; _fullfs_umount; (exit $_rc); _cleanup' EXIT
export CKPTFS_REPO=$small/repo

P=$T/proj
mkdir -p "$P/src"
for i in $(seq 1 20); do echo "file $i" >"$P/src/f$i"; done
head -c $((256 << 10)) /dev/urandom >"$P/first.bin"
ck snap -q "$P"

manifest() {
	(cd "$1" && find . -mindepth 1 -printf '%y %P\n' | LC_ALL=C sort &&
		find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum)
}
nsnaps() { "$CKPTFS" log -p proj | grep -c .; }

# try_full FREE_KB: a snap with only FREE_KB free must fail cleanly (or,
# if everything fit after all, succeed with a whole snapshot).
fitted=0
try_full() {
	local free_kb=$1 rc=0 avail fill
	avail=$(( $(stat -f -c '%a*%S' "$small") ))
	fill=$(( avail - free_kb * 1024 ))
	[ "$fill" -gt 0 ] && head -c "$fill" /dev/zero >"$small/filler" 2>/dev/null || true
	"$CKPTFS" snap -q "$P" >/dev/null 2>"$T/err" || rc=$?
	echo "free ${free_kb} KiB: exit $rc: $(head -n1 "$T/err")"
	rm -f "$small/filler"
	if [ $rc = 0 ]; then
		fitted=$((fitted + 1))
		before=$(nsnaps)
		return
	fi
	grep -qv '^ckptfs: ' "$T/err" && { cat "$T/err" >&2; fail "stderr holds more than ckptfs: lines"; }
	[ "$(wc -l <"$T/err")" -le 2 ] || { cat "$T/err" >&2; fail "more than two error lines"; }
	[ "$(nsnaps)" = "$before" ] || fail "a failed snap (${free_kb} KiB free) committed a snapshot"
	"$CKPTFS" check --read-data -q >"$T/check" 2>&1 || { cat "$T/check" >&2; fail "check after ENOSPC (${free_kb} KiB free)"; }
	failures=$((failures + 1))
}

failures=0
before=$(nsnaps)
# 3 MiB of new data cannot fit: the pack write fails.
head -c $((3 << 20)) /dev/urandom >"$P/big.bin"
echo changed >>"$P/src/f1"
for free_kb in 8 64 600 2000; do try_full $free_kb; done
rm "$P/big.bin"
# 48 KiB of new data: the pack may fit and the catalog's WAL not.
head -c $((48 << 10)) /dev/urandom >"$P/mid.bin"
for free_kb in 40 56 64 72 80 96 112 128 160; do
	echo "more $free_kb" >>"$P/src/f2"
	try_full $free_kb
done
[ "$failures" -ge 4 ] || fail "only $failures snaps failed for lack of space"

# Space freed: the next snap works and is exact.
ck snap -q "$P"
manifest "$P" >"$T/want"
ck restore . -p proj --to "$T/r" >/dev/null
manifest "$T/r" >"$T/got"
cmp -s "$T/want" "$T/got" || fail "snapshot after freeing space does not restore exactly"
ck check --read-data -q
echo "full disk: $failures clean failures, $fitted snaps that fitted, then a good snapshot"
if [ -n "${CKPTFS_FIGURES:-}" ]; then echo "fullfs failures=$failures" >>"$CKPTFS_FIGURES"; fi
