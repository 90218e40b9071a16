#!/bin/bash
# t_concurrency.sh — everything at once: two snap loops racing on the same
# project, one on another project, a mount reading files of older
# snapshots the whole time, and check running alongside.
#
# Nothing may fail except a snap that reports the writer lock clearly (exit
# 4, "locked by another ckptfs"); every file read through the mount equals
# what it held when its snapshot was taken (a reader never sees a partial
# snapshot); check passes throughout and check --read-data at the end.
# About 15 s; CKPTFS_LONG=1: 3 minutes.
. "$(dirname "$0")/lib.sh"

secs=15
[ "${CKPTFS_LONG:-0}" = 1 ] && secs=180
# Short lock waits so the race produces both waits and lock errors.
export CKPTFS_LOCK_WAIT=1

mkdir -p "$T/a/src" "$T/b/src" "$T/log"
for i in $(seq 1 30); do echo "a $i" >"$T/a/src/f$i"; echo "b $i" >"$T/b/src/f$i"; done
head -c $((2 << 20)) /dev/urandom >"$T/a/big"
ck snap -q "$T/a"
ck snap -q "$T/b"

# A snap loop: change the project (each round writes a marker file holding
# the round, whose content a reader can predict), snapshot it.
snap_loop() {
	local proj=$1 tag=$2 end=$3 n=0 locked=0 rc
	while [ "$(date +%s)" -lt "$end" ]; do
		n=$((n + 1))
		# Replaced by rename, as editors do: a snap taken meanwhile by the
		# other loop sees the old or the new file, never one half written.
		echo "$tag $n" >"$T/tmp-$tag" && mv "$T/tmp-$tag" "$proj/src/marker-$tag"
		head -c $((RANDOM * 16)) /dev/urandom >"$T/tmp-$tag" && mv "$T/tmp-$tag" "$proj/src/noise-$tag"
		rc=0
		"$CKPTFS" snap -q "$proj" 2>"$T/log/snap-$tag.err" || rc=$?
		if [ $rc = 4 ]; then
			grep -q 'locked by another ckptfs' "$T/log/snap-$tag.err" ||
				{ cat "$T/log/snap-$tag.err"; echo "FAIL lock message" >>"$T/log/fail"; }
			locked=$((locked + 1))
		elif [ $rc != 0 ]; then
			{ echo "FAIL snap $tag exited $rc:"; cat "$T/log/snap-$tag.err"; } >>"$T/log/fail"
		fi
	done
	echo "$tag rounds=$n locked=$locked" >>"$T/log/stats"
}

check_loop() {
	local end=$1 n=0
	while [ "$(date +%s)" -lt "$end" ]; do
		n=$((n + 1))
		"$CKPTFS" check -q >"$T/log/check.out" 2>&1 ||
			{ echo "FAIL check alongside writers:"; cat "$T/log/check.out"; } >>"$T/log/fail"
		sleep 0.3
	done
	echo "check rounds=$n" >>"$T/log/stats"
}

# Through the mount: every snapshot's big file equals the original, and
# each marker file names a round of its own writer (never empty, never
# cut) — files of a snapshot exist completely or the snapshot does not.
mount_loop() {
	local mnt=$1 end=$2 n=0 sum f m
	sum=$(sha256sum <"$T/a/big")
	while [ "$(date +%s)" -lt "$end" ]; do
		for d in "$mnt"/a/[0-9]*/; do # snapshots (not @tags, @versions)
			[ -e "$d/big" ] || continue
			n=$((n + 1))
			[ "$(sha256sum <"$d/big")" = "$sum" ] || echo "FAIL mount: $d/big differs" >>"$T/log/fail"
			for f in "$d"/src/marker-*; do
				[ -e "$f" ] || continue
				m=$(cat "$f") || { echo "FAIL mount: reading $f" >>"$T/log/fail"; continue; }
				[[ $m =~ ^(a1|a2)\ [0-9]+$ ]] || echo "FAIL mount: $f holds '$m'" >>"$T/log/fail"
			done
		done
	done
	echo "mount reads=$n" >>"$T/log/stats"
}

end=$(( $(date +%s) + secs ))
pids=()
mounted=
if "$CKPTFS" mount --help >/dev/null 2>&1 && [ -e /dev/fuse ]; then
	mount_ckpt "$T/mnt"
	mounted=1
	mount_loop "$T/mnt" "$end" & pids+=($!); track_pid $!
fi
snap_loop "$T/a" a1 "$end" & pids+=($!); track_pid $!
snap_loop "$T/a" a2 "$end" & pids+=($!); track_pid $!
snap_loop "$T/b" b1 "$end" & pids+=($!); track_pid $!
check_loop "$end" & pids+=($!); track_pid $!
for p in "${pids[@]}"; do wait "$p" || true; done
cat "$T/log/stats"
[ -z "$mounted" ] && echo "(no mount: FUSE unavailable)"
if [ -s "$T/log/fail" ]; then
	head -40 "$T/log/fail" >&2
	fail "$(grep -c FAIL "$T/log/fail") failures while running concurrently"
fi
[ -n "$mounted" ] && { "$CKPTFS" umount "$T/mnt" 2>/dev/null || fusermount3 -u "$T/mnt"; }
ck check --read-data -q

# The lock, deterministically: held by someone else longer than the wait.
if command -v flock >/dev/null; then
	hold_lock "$CKPTFS_REPO/lock"
	CKPTFS_LOCK_WAIT=0.5 expect_status 4 "$CKPTFS" snap -q "$T/a"
	grep -q 'locked by another ckptfs' "$T/stderr" || { cat "$T/stderr" >&2; fail "lock error unclear"; }
	echo "lock held elsewhere: $(head -n1 "$T/stderr")"
	"$CKPTFS" log -p a >/dev/null || fail "a reader is blocked by the writer lock"
	release_lock
	ck snap -q "$T/a"
fi
total=$("$CKPTFS" log -p a | grep -c .)
echo "concurrency: $total snapshots of a, no failures, check --read-data passes"
if [ -n "${CKPTFS_FIGURES:-}" ]; then
	echo "concurrency seconds=$secs $(tr '\n' ' ' <"$T/log/stats")" >>"$CKPTFS_FIGURES"
fi
