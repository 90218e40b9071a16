#!/bin/bash
# Kernel pseudo file systems (/proc, /sys, devtmpfs /dev, devpts, cgroup…)
# are never project roots: snap and run refuse them at once with one line,
# before the repository is created or a project registered.  A tmpfs is
# real storage and is accepted.
. "$(dirname "$0")/lib.sh"

# expect_refused DIR SHOWN CMD...: status 1 within seconds, one stderr line.
expect_refused() {
	local shown=$1; shift
	local got=0
	timeout 20 "$@" 2>"$T/stderr" >"$T/stdout" || got=$?
	[ "$got" = 1 ] || { cat "$T/stderr" >&2; fail "$* exited $got, wanted 1"; }
	[ "$(wc -l <"$T/stderr")" = 1 ] || { cat "$T/stderr" >&2; fail "$*: want one line on stderr"; }
	grep -Eq "^ckptfs: $shown: is on a [a-z0-9_]+ file system \(kernel state, not files\); not a project root\$" \
		"$T/stderr" || fail "$*: stderr is '$(cat "$T/stderr")'"
}

dirs=(/proc /sys /proc/sys/kernel /proc/1 /sys/kernel /sys/class)
[ -d /dev/pts ] && dirs+=(/dev/pts)
[ "$(stat -f -c %T /sys/fs/cgroup 2>/dev/null)" = cgroup2fs ] && dirs+=(/sys/fs/cgroup)
[ -d /sys/fs/cgroup/cpu ] && dirs+=(/sys/fs/cgroup/cpu)
grep -q ' /dev [^ ]* [^-]*- devtmpfs ' /proc/self/mountinfo && dirs+=(/dev)

# With no repository yet: none is created.
for d in "${dirs[@]}"; do
	real=$(realpath "$d")
	expect_refused "$real" "$CKPTFS" snap "$d"
	expect_refused "$real" "$CKPTFS" snap --dry-run "$d"
	(cd "$d" && expect_refused "$real" "$CKPTFS" snap)
	(cd "$d" && expect_refused "$real" "$CKPTFS" run -- true)
	[ ! -e "$CKPTFS_REPO" ] || fail "snap $d created the repository"
done
grep -q "^ckptfs: /proc: is on a proc file system" <("$CKPTFS" snap /proc 2>&1) || fail "/proc: not named proc"
grep -q "^ckptfs: /sys: is on a sysfs file system" <("$CKPTFS" snap /sys 2>&1) || fail "/sys: not named sysfs"

# With a repository: no project is registered, no snapshot taken.
P=$T/proj
mkdir "$P" && printf 'x\n' >"$P/a"
ck snap -q "$P"
for d in "${dirs[@]}"; do
	expect_refused "$(realpath "$d")" "$CKPTFS" snap -q --name "pseudo" "$d"
done
[ "$(ck projects --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 1 ] ||
	fail "a pseudo file system got registered: $(ck projects)"

# A tmpfs is not pseudo: a project there is snapped.
if [ -d /dev/shm ] && [ "$(stat -f -c %T /dev/shm)" = tmpfs ]; then
	S=$(mktemp -d /dev/shm/ckptfs-e2e.XXXXXX)
	at_exit "rm -rf '$S'"
	printf 'kept\n' >"$S/f"
	ck snap -q "$S"
	ck restore --project "${S##*/}" --to "$T/back" f
	[ "$(cat "$T/back")" = kept ] || fail "tmpfs project did not restore"
fi
echo ok
