# lib.sh — shared set-up for end-to-end tests.  Source it first:
#
#   . "$(dirname "$0")/lib.sh"
#
# It makes a private temp dir ($T) with a repository ($CKPTFS_REPO), sets a
# fixed TZ, and installs an EXIT trap that unmounts everything mounted with
# mount_ckpt, kills processes registered with track_pid, runs commands
# registered with at_exit (e.g. stopping a database server), and removes $T —
# also when the test fails half way.  Tests exit 0 (pass), 77 (skip, with
# a reason on the last line) or anything else (fail).
set -euo pipefail

: "${CKPTFS:?set CKPTFS to the binary under test}"
T=$(mktemp -d "${TMPDIR:-/tmp}/ckptfs-e2e.XXXXXX")
export CKPTFS_REPO="$T/repo"
export TZ=UTC
export LC_ALL=C.UTF-8
# Files the tests make get the usual modes (t_diff expects "deleted file
# mode 100644", t_errors a file nobody can read next to ones it can): a
# caller's umask 077 failed them.  Tests that want another set it.
umask 022
# Nothing of the caller's environment changes what ckptfs does: no
# config.toml of theirs (forget --policy reads it; a test writes its own
# under $XDG_CONFIG_HOME), none of its knobs set in their shell.
export XDG_CONFIG_HOME=$T/config
unset CKPTFS_LOCK_WAIT CKPTFS_NOW CKPTFS_PASSPHRASE_FILE CKPTFS_KEYWRAP_MS \
	CKPTFS_WATCH_REFRESH CKPTFS_WATCH_MAX_WATCHES NO_COLOR PAGER
_mounts=()
_pids=()

_hooks=()

track_pid() { _pids+=("$1"); }

# at_exit CMD: run the shell command CMD in the EXIT trap (before the temp
# dir is removed; last registered runs first), also when the test fails.
at_exit() { _hooks=("$1" "${_hooks[@]}"); }

_cleanup() {
	local rc=$?
	set +e
	for h in "${_hooks[@]}"; do
		eval "$h"
	done
	for m in "${_mounts[@]}"; do
		if mountpoint -q "$m" 2>/dev/null; then
			fusermount3 -u "$m" 2>/dev/null || fusermount3 -uz "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
		fi
	done
	for p in "${_pids[@]}"; do
		kill "$p" 2>/dev/null && sleep 0.2 && kill -9 "$p" 2>/dev/null
	done
	chmod -R u+rwX "$T" 2>/dev/null
	rm -rf "$T"
	exit $rc
}
trap _cleanup EXIT
trap 'exit 130' INT TERM

fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "$*"; exit 77; }

# wait_for SECS WHAT CMD...: run CMD every 50 ms until it succeeds; fail
# with "WHAT" after SECS seconds.  For anything that happens "soon" (a
# server up, a lock taken, a mount gone): a loaded machine may take far
# longer than usual, so give SECS generously — a pass costs no more.
wait_for() {
	local secs=$1 what=$2; shift 2
	local end=$((SECONDS + secs))
	until "$@"; do
		[ "$SECONDS" -lt "$end" ] || fail "$what (waited ${secs} s)"
		sleep 0.05
	done
}

# hold_lock FILE [-s]: flock FILE (exclusive, or shared with -s) in a
# background process ($lock_holder) that keeps it until release_lock or the
# test's end.  Returns once the lock is held — the holder says so by a file
# appearing — so a command started next finds it taken however slow the
# machine (a "flock FILE sleep 3 & sleep 0.3" may not have it yet, or have
# dropped it already).
hold_lock() {
	local file=$1 mode=${2:--x} held
	held=$(mktemp -u "$T/held.XXXXXX")
	( exec 9>>"$file"; flock "$mode" 9; : >"$held"; exec sleep 600 ) &
	lock_holder=$!
	track_pid "$lock_holder"
	wait_for 60 "the test's holder did not take $file" test -e "$held"
}
release_lock() {
	kill "$lock_holder" 2>/dev/null || true
	wait "$lock_holder" 2>/dev/null || true
}

# ck ARGS...: run ckptfs, failing the test on a non-zero status.
ck() { "$CKPTFS" "$@" || fail "ckptfs $* exited $?"; }

# expect_status N CMD...: run CMD, require exit status N; stderr in $T/stderr.
expect_status() {
	local want=$1; shift
	local got=0
	"$@" 2>"$T/stderr" >"$T/stdout" || got=$?
	[ "$got" = "$want" ] || { cat "$T/stderr" >&2; fail "$* exited $got, wanted $want"; }
}

# mount_ckpt MNT [ARGS...]: mount the repository and remember to unmount it.
mount_ckpt() {
	local mnt=$1; shift
	mkdir -p "$mnt"
	_mounts+=("$mnt")
	"$CKPTFS" mount "$mnt" "$@" || fail "ckptfs mount $mnt exited $?"
	mountpoint -q "$mnt" || fail "$mnt is not a mount point after ckptfs mount"
}

# One line per entry: path, type, mode, size (not for directories, whose
# size is a filesystem detail), mtime, symlink target, user xattrs.
_meta() {
	(cd "$1" && find . -mindepth 1 \( -type d -printf '%P|%y|%m|-|%T@|\n' \) -o \
		-printf '%P|%y|%m|%s|%T@|%l\n' | LC_ALL=C sort)
	(cd "$1" && find . -mindepth 1 -print0 | LC_ALL=C sort -z |
		xargs -0 -r getfattr -h -d -m '^user\.' --absolute-names 2>/dev/null | grep -v '^$' || true)
}

# same_tree A B: contents and metadata (type, mode, size, mtime, symlink
# target, user xattrs) of two trees are equal.
same_tree() {
	local out
	if ! out=$(diff -r --no-dereference "$1" "$2" 2>&1); then
		# diff cannot compare FIFOs, sockets or devices and says so even when
		# both sides are the same kind; _meta below compares their type and mode.
		out=$(grep -Ev '^File .* is a (fifo|socket|character special file|block special file) while file .* is a (fifo|socket|character special file|block special file)$' <<<"$out" || true)
		[ -z "$out" ] || { echo "$out" >&2; fail "contents differ: $1 $2"; }
	fi
	local a b
	a=$(_meta "$1")
	b=$(_meta "$2")
	[ "$a" = "$b" ] || { diff <(echo "$a") <(echo "$b") | head -20 >&2; fail "metadata differs: $1 $2"; }
}
