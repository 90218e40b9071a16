#!/bin/bash
# Mount for real: every file of three snapshots matches the tree as it was
# (bytes and metadata); cp -a of a whole snapshot; inode numbers consistent
# between readdir and stat and across mounts; folder link counts; four
# concurrent readers of a large file; file-manager probes; statfs; umount
# leaves no process behind.
. "$(dirname "$0")/lib.sh"

P=$T/proj
M=$T/mnt
mkdir -p "$P"

# --- a tree with every file type, odd names, a large and a sparse file ------
cd "$P"
printf 'hello\n' >"a file.txt"
printf 'SECRET=1\n' >.env
: >empty
mkdir -p "sub dir/nested" emptydir src
printf 'inner\n' >"sub dir/inner.txt"
printf 'x\n' >$'new\nline'
printf 'z\n' >$'bad\xff\xfename'
printf 'u\n' >"caf$(printf '\xc3\xa9') ünïcødé"
printf 'q\n' >"quote\"s 'and' \\back"
printf 'l\n' >"$(printf 'n%.0s' $(seq 255))"
printf 'deep\n' >"sub dir/nested/deep.txt"
head -c 24M /dev/urandom >large.bin
truncate -s 9M sparse
printf 'middle' | dd of=sparse bs=1 seek=4000000 conv=notrunc status=none
for i in $(seq 1 300); do printf 'file %d\n' "$i" >"src/f$i.c"; done
ln -s "a file.txt" link
ln -s /nonexistent/absolute dangling
ln -s "sub dir" dirlink
mkfifo pipe
printf '#!/bin/sh\necho hi\n' >script.sh
chmod 755 script.sh
chmod 600 .env
chmod 444 "a file.txt"
chmod 1777 emptydir
chmod 2750 "sub dir"
setfattr -n user.comment -v "a comment" "a file.txt"
setfattr -n user.bin -v 0x00ff0102 large.bin
setfattr -n user.dir -v yes "sub dir"
find . -mindepth 1 ! -type d -exec touch -h -d @1700000000.123456789 {} +
touch -d @1600000000.5 "a file.txt"
find . -mindepth 1 -depth -type d -exec touch -d @1650000000.25 {} +
cd /

snap() { "$CKPTFS" snap -q "$P" "$@" && ck log --project proj --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["name"])'; }

s1=$(snap -t first) || fail "snap 1"
cp -a "$P" "$T/v1"
# second: an edit inside the large file, a removal, a new file
printf 'EDIT' | dd of="$P/large.bin" bs=1 seek=12000000 conv=notrunc status=none
rm "$P/src/f7.c"
printf 'new\n' >"$P/src/new.c"
s2=$(snap) || fail "snap 2"
cp -a "$P" "$T/v2"
# third: metadata-only changes
chmod 640 "$P/src/f1.c"
setfattr -n user.comment -v "changed" "$P/a file.txt"
touch -d @1700000500 "$P/empty"
s3=$(snap -t third) || fail "snap 3"
cp -a "$P" "$T/v3"
echo "snapshots: $s1 $s2 $s3"

mount_ckpt "$M"

# --- layout ----------------------------------------------------------------
[ "$(ls "$M")" = proj ] || fail "root lists $(ls "$M")"
want=$(printf '%s\n' "$s1" "$s2" "$s3" @tags @versions latest | LC_ALL=C sort)
[ "$(ls -A "$M/proj" | LC_ALL=C sort)" = "$want" ] || fail "project lists $(ls -A "$M/proj")"
[ "$(readlink "$M/proj/latest")" = "$s3" ] || fail "latest -> $(readlink "$M/proj/latest")"
[ "$(readlink "$M/proj/@tags/first")" = "../$s1" ] || fail "@tags/first"
[ "$(readlink "$M/proj/@tags/third")" = "../$s3" ] || fail "@tags/third"
[ "$(cat "$M/proj/@tags/first/a file.txt")" = hello ] || fail "read through a tag link"
[ "$(stat -c %a "$M")" = 555 ] && [ "$(stat -c %u "$M/proj")" = "$(id -u)" ] || fail "top-level modes"

# --- bytes and metadata of every snapshot ------------------------------------
same_tree "$T/v1" "$M/proj/$s1"
same_tree "$T/v2" "$M/proj/$s2"
same_tree "$T/v3" "$M/proj/$s3"
same_tree "$T/v3" "$M/proj/latest/"
# what same_tree does not look at: owners, ns times, device of a fifo
for f in "a file.txt" large.bin "sub dir" pipe link; do
	a=$(stat -c '%u %g %y %F' "$T/v3/$f")
	b=$(stat -c '%u %g %y %F' "$M/proj/$s3/$f")
	[ "$a" = "$b" ] || fail "$f: stat '$b', wanted '$a'"
done
[ "$(getfattr --absolute-names --only-values -n user.comment "$M/proj/$s1/a file.txt")" = "a comment" ] || fail "xattr of s1"
[ "$(getfattr --absolute-names --only-values -n user.comment "$M/proj/$s3/a file.txt")" = "changed" ] || fail "xattr of s3"
# absent attributes are ENODATA ("No such attribute"); security labels and
# ACLs, which snapshots do not record, are not supported (ls stops asking)
xattr_absent() {
	! getfattr --absolute-names -n "$2" "$1" 2>"$T/err" >/dev/null || fail "$1 has $2"
	grep -q "$3" "$T/err" || fail "$1: $2: $(cat "$T/err")"
}
xattr_absent "$M/proj/$s3/a file.txt" user.nope "No such attribute"
xattr_absent "$M/proj" user.x "No such attribute"
xattr_absent "$M/proj/$s3" user.x "No such attribute"
xattr_absent "$M/proj/$s3/a file.txt" security.selinux "Operation not supported"
xattr_absent "$M/proj/$s3/sub dir" system.posix_acl_default "Operation not supported"
xattr_absent "$M/proj" security.selinux "Operation not supported"
[ -z "$(getfattr --absolute-names -d "$M/proj" "$M" 2>&1)" ] || fail "synthetic folders have xattrs"
# the sparse file reads back with zeros in its holes
cmp "$M/proj/$s3/sparse" "$T/v3/sparse" || fail "sparse content"

# --- cp -a of a whole snapshot ---------------------------------------------
cp -a "$M/proj/$s2" "$T/cpout"
same_tree "$T/v2" "$T/cpout"

# --- inode numbers: readdir = stat, stable across a remount ------------------
snapdir="$M/proj/$s3"
check_inodes() {
	local d=$1 line ino name
	while IFS= read -r -d '' line; do
		ino=${line%% *}
		name=${line#* }
		[ "$(stat -c %i "$d/$name")" = "$ino" ] || fail "$d/$name: d_ino $ino != st_ino $(stat -c %i "$d/$name")"
	done < <(python3 -c 'import os,sys
for e in os.scandir(sys.argv[1]):
    sys.stdout.write("%d %s\0" % (e.inode(), e.name))' "$d")
}
check_inodes "$snapdir"
check_inodes "$snapdir/src"
check_inodes "$M/proj"
check_inodes "$M"
find "$snapdir" -printf '%i %P\n' | LC_ALL=C sort >"$T/inodes1"
[ "$(cut -d' ' -f1 "$T/inodes1" | sort | uniq -d | wc -l)" = 0 ] || fail "two paths share an inode number"
# the same file in two snapshots is two inodes (find/du/tar see no hard links)
[ "$(stat -c %i "$M/proj/$s1/src/f2.c")" != "$(stat -c %i "$M/proj/$s2/src/f2.c")" ] || fail "inode shared across snapshots"
[ "$(stat -c %h "$snapdir/large.bin")" = 1 ] || fail "nlink of a file"

# --- folder link counts: 2 + subfolders ----------------------------------------
while IFS= read -r -d '' d; do
	n=$(find "$d" -mindepth 1 -maxdepth 1 -type d | wc -l)
	[ "$(stat -c %h "$d")" = $((n + 2)) ] || fail "$d: nlink $(stat -c %h "$d"), wanted $((n + 2))"
done < <(find "$M" -path "$M/proj/@versions" -prune -o -type d -print0) # @versions: nlink 1, t_mount_versions

# --- four concurrent readers of the large file ---------------------------------
want=$(sha256sum <"$T/v2/large.bin")
for i in 1 2 3 4; do sha256sum <"$M/proj/$s2/large.bin" >"$T/sum$i" & done
wait
for i in 1 2 3 4; do [ "$(cat "$T/sum$i")" = "$want" ] || fail "reader $i got a different sum"; done
du -s "$snapdir" >/dev/null || fail "du"
tar -cf "$T/s1.tar" -C "$M/proj" "$s1" 2>"$T/err" || { cat "$T/err"; fail "tar"; }
[ ! -s "$T/err" ] || fail "tar warned: $(cat "$T/err")"
tar -tf "$T/s1.tar" >"$T/s1.list"
grep -q 'src/f300.c' "$T/s1.list" || fail "tar lacks a file"

# --- file-manager probes: fast ENOENT; statfs ----------------------------------
for n in .hidden .DS_Store .Trash .Trash-$(id -u) desktop.ini .directory autorun.inf .thumbnails; do
	[ ! -e "$M/$n" ] && [ ! -e "$M/proj/$n" ] || fail "$n exists"
	! stat "$M/proj/$n" 2>"$T/err" >/dev/null && grep -q "No such file" "$T/err" || fail "$n: not ENOENT"
done
[ ! -e "$M/proj/2099-01-01T00:00" ] || fail "a future snapshot exists"
[ "$(stat -f -c '%S %l' "$M")" = "4096 255" ] || fail "statfs: $(stat -f -c '%S %l' "$M")"
[ "$(stat -f -c '%f' "$M")" = 0 ] || fail "statfs reports free space"
[ "$(stat -f -c '%b' "$M")" -gt 6000 ] || fail "statfs size $(stat -f -c '%b' "$M") blocks for a 24 MiB+ repository"

# --- stable across a remount ---------------------------------------------------
ck umount "$M"
mount_ckpt "$M"
find "$snapdir" -printf '%i %P\n' | LC_ALL=C sort >"$T/inodes2"
cmp -s "$T/inodes1" "$T/inodes2" || fail "inode numbers changed across a remount"

# --- umount: no mount, no process -------------------------------------------------
ck umount "$M"
mountpoint -q "$M" && fail "still mounted after umount"
wait_for 60 "the mount process is still running" eval '! pgrep -f "ckptfs mount $M" >/dev/null'
echo ok
