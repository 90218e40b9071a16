#!/bin/bash
# t_restore_targets.sh — restore replaces only what it may (issue 8, item 2).
# Every file type as the target of a file restore, a directory restore and
# an entry inside a directory restore, with --to and into the project:
# character and block devices, FIFOs, sockets, symlinks to each, a dangling
# symlink, a symlink to a file, a directory where a file goes and a file
# where a directory goes.  A device, FIFO, socket, symlink to one of them,
# or an entry of the other kind is refused with one line naming the path and
# its type, and left exactly as it was; a regular file, a dangling symlink
# or a symlink to a file is replaced (the link itself, never written
# through).
#
# Everything runs in a private mount namespace on a private tmpfs, so the
# device nodes made for the test are the test's own and nothing real is
# touched.  Without a mount namespace (not permitted) the test runs in $T
# and leaves the device cases out; without mknod permission (a user
# namespace) the same.
. "$(dirname "$0")/lib.sh"

command -v python3 >/dev/null || skip "no python3 (to make a socket)"
NS=$T/ns
mkdir -p "$NS"

# mk KIND PATH: make an entry of KIND at PATH (link-KIND: a symlink to a
# KIND made next to it as PATH.target).
mk() {
	case $1 in
	chr) mknod "$2" c 1 3 ;;
	blk) mknod "$2" b 7 250 ;;
	fifo) mkfifo "$2" ;;
	sock) python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$2" ;;
	file) echo mine >"$2" ;;
	dir) mkdir "$2" && echo mine >"$2/keep" ;;
	dangling) ln -s nowhere "$2" ;;
	link-*) mk "${1#link-}" "$2.target" && ln -s "${2##*/}.target" "$2" ;;
	esac
}

# The type words the refusal uses.
word() {
	case $1 in
	chr) echo "a character device" ;;
	blk) echo "a block device" ;;
	fifo) echo "a FIFO" ;;
	sock) echo "a socket" ;;
	file) echo "a regular file" ;;
	dir) echo "a directory" ;;
	dangling) echo "a dangling symlink" ;;
	link-*) echo "a symlink to $(word "${1#link-}")" ;;
	esac
}

# sig PATH: what PATH is (type, device numbers, inode, link target, and the
# same of what a link leads to), to see that nothing changed.
sig() {
	stat -c '%F %t:%T %i %s' "$1"
	if [ -L "$1" ]; then
		readlink "$1"
		[ -e "$1.target" ] && stat -c '%F %t:%T %i %s' "$1.target" && [ -d "$1.target" ] && ls -A "$1.target"
	fi
	[ -d "$1" ] && [ ! -L "$1" ] && ls -A "$1"
	true
}

# refused WHERE KIND ARGS...: ckptfs restore ARGS fails (exit 1) with one
# line on stderr naming WHERE as KIND, and WHERE (KIND) is unchanged.
refused() {
	local where=$1 kind=$2 before rc=0
	shift 2
	before=$(sig "$where")
	"$CKPTFS" restore -p proj --from orig "$@" >"$NS/stdout" 2>"$NS/stderr" || rc=$?
	[ "$rc" = 1 ] || { cat "$NS/stderr" >&2; fail "restore $* over $(word "$kind") exited $rc, wanted 1"; }
	[ "$(wc -l <"$NS/stderr")" = 1 ] || { cat "$NS/stderr" >&2; fail "restore $*: not one line on stderr"; }
	grep -qF "$where: exists and is $(word "$kind")" "$NS/stderr" ||
		{ cat "$NS/stderr" >&2; fail "restore $*: the line does not name $where as $(word "$kind")"; }
	[ "$(sig "$where")" = "$before" ] || fail "restore $* changed $where ($(word "$kind"))"
}

body() {
	local kinds=(fifo sock) k
	[ "$DEV" = 1 ] && kinds=(chr blk fifo sock)
	local P=$NS/proj
	mkdir -p "$P/d/sub"
	echo snap-f >"$P/f"
	echo snap-x >"$P/d/x"
	echo snap-y >"$P/d/sub/y"
	ln -s f "$P/l"
	ck snap -q -t orig "$P"

	# A file restore --to each kind, and a symlink to each.
	for k in "${kinds[@]}"; do
		for kk in "$k" "link-$k"; do
			mk "$kk" "$NS/f-$kk"
			refused "$NS/f-$kk" "$kk" f --to "$NS/f-$kk"
			refused "$NS/f-$kk" "$kk" f --to "$NS/f-$kk" --dry-run
			# A symlink from the snapshot is refused the same way.
			refused "$NS/f-$kk" "$kk" l --to "$NS/f-$kk"
		done
	done
	# ... what it may replace: a file, a dangling symlink, a symlink to a
	# file (the link is replaced, what it leads to is not written).
	for k in file dangling link-file; do
		mk "$k" "$NS/f-$k"
		ck restore -p proj --from orig f --to "$NS/f-$k" >/dev/null
		[ -f "$NS/f-$k" ] && [ ! -L "$NS/f-$k" ] && [ "$(cat "$NS/f-$k")" = snap-f ] ||
			fail "file restore over $(word "$k"): not replaced by the file"
	done
	[ "$(cat "$NS/f-link-file.target")" = mine ] || fail "restore wrote through a symlink to a file"
	# ... a directory (or a symlink to one) as DEST: the file goes into it.
	for k in dir link-dir; do
		mk "$k" "$NS/f-$k"
		ck restore -p proj --from orig f --to "$NS/f-$k" >/dev/null
		[ "$(cat "$NS/f-$k/f")" = snap-f ] || fail "file restore --to $(word "$k"): not written into it"
	done

	# A directory restore --to anything but a directory.
	for k in "${kinds[@]}" file dangling dir; do
		for kk in "$k" "link-$k"; do
			[ "$kk" = link-dangling ] && continue
			[ "$kk" = dir ] && continue
			mk "$kk" "$NS/d-$kk"
			refused "$NS/d-$kk" "$kk" d --to "$NS/d-$kk"
			refused "$NS/d-$kk" "$kk" d --to "$NS/d-$kk" --dry-run
		done
	done

	# Entries inside a directory restore: d/x is each kind, d/sub a file.
	for k in "${kinds[@]}" dir; do
		for kk in "$k" "link-$k"; do
			mkdir "$NS/e-$kk"
			mk "$kk" "$NS/e-$kk/x"
			refused "$NS/e-$kk/x" "$kk" d --to "$NS/e-$kk"
			[ "$(cat "$NS/e-$kk/sub/y")" = snap-y ] || fail "the rest of d not restored next to $(word "$kk")"
			refused "$NS/e-$kk/x" "$kk" d --to "$NS/e-$kk" --dry-run
		done
	done
	for kk in file link-file link-dir; do
		mkdir "$NS/e-sub-$kk"
		mk "$kk" "$NS/e-sub-$kk/sub"
		refused "$NS/e-sub-$kk/sub" "$kk" d --to "$NS/e-sub-$kk"
		[ "$(cat "$NS/e-sub-$kk/x")" = snap-x ] || fail "d/x not restored next to a $(word "$kk") sub"
	done
	for k in dangling link-file; do
		mkdir "$NS/e-$k"
		mk "$k" "$NS/e-$k/x"
		ck restore -p proj --from orig d --to "$NS/e-$k" >/dev/null
		[ -f "$NS/e-$k/x" ] && [ ! -L "$NS/e-$k/x" ] || fail "entry over $(word "$k") not replaced"
	done

	# Into the project: f and d/x as each kind (a safety snapshot first).
	for k in "${kinds[@]}" dir; do
		for kk in "$k" "link-$k"; do
			rm -rf "$P/f" "$P/f.target" "$P/d/x" "$P/d/x.target"
			mk "$kk" "$P/f"
			mk "$kk" "$P/d/x"
			(cd "$P" && refused "$P/f" "$kk" f)
			(cd "$P" && refused "$P/d/x" "$kk" d)
		done
	done
	rm -rf "$P/d/sub"
	echo mine >"$P/d/sub"
	(cd "$P" && refused "$P/d/sub" file d/sub)
	echo "restore targets: refused ${kinds[*]}, symlinks to them, dir/file mismatches; replaced files and links"
}

if unshare -m --propagation private true 2>/dev/null; then
	ns=(unshare -m --propagation private)
elif unshare -Urm --propagation private true 2>/dev/null; then
	ns=(unshare -Urm --propagation private)
else
	ns=()
fi
export NS CKPTFS CKPTFS_REPO TZ LC_ALL T
export -f mk word sig refused body fail ck
if [ ${#ns[@]} -gt 0 ]; then
	# On a private tmpfs; device nodes only if mknod is permitted there.
	"${ns[@]}" bash -euo pipefail -c '
		mount -t tmpfs -o mode=0700 ckptfs-test "$NS"
		DEV=0
		if mknod "$NS/.probe" c 1 3 2>/dev/null; then DEV=1; rm -f "$NS/.probe"; fi
		[ "$DEV" = 1 ] || echo "device cases left out: mknod not permitted in the namespace"
		export DEV
		body
		umount "$NS"'
else
	echo "device cases left out: no private mount namespace (unshare -m not permitted)"
	DEV=0 body
fi
