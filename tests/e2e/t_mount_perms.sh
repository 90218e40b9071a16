#!/bin/bash
# mount -o allow_other: other users get exactly what the recorded modes
# give them.  A snapshot folder has the project root's recorded mode and
# owner (a 0700 project stays private), a private subfolder stays private,
# @versions is the mounting user's only, a snapshot that recorded no root
# mode (an older one) is the mounting user's only, and the kernel's
# default_permissions check does the rest.  Checked as real other users
# (setpriv), with an owner, a group member and a stranger.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || skip "needs root (to act as other users)"
command -v setpriv >/dev/null || skip "no setpriv"
[ -e /dev/fuse ] || skip "no /dev/fuse"
id nobody >/dev/null 2>&1 || skip "no user nobody"

OWNER=65533   # owns the projects
MEMBER=65532  # in their group
GROUP=65531
STRANGER=65534
chmod 755 "$T" # only the mount's own modes decide below

# as UID GID CMD...: run CMD as that user (groups: GID only).
as() {
	local uid=$1 gid=$2; shift 2
	setpriv --reuid="$uid" --regid="$gid" --clear-groups "$@"
}
can() { as "$@" >/dev/null 2>&1; }
cannot() { ! as "$@" >/dev/null 2>&1; }

mkproj() { # NAME MODE: a project owned by OWNER:GROUP
	local p=$T/$1
	mkdir -p "$p/sub" "$p/private"
	printf 'open %s\n' "$1" >"$p/open.txt"
	printf 'sub %s\n' "$1" >"$p/sub/f.txt"
	printf 'hidden %s\n' "$1" >"$p/private/f.txt"
	chmod 644 "$p/open.txt" "$p/sub/f.txt" "$p/private/f.txt"
	chmod 755 "$p/sub"
	chmod 700 "$p/private"
	chown -R "$OWNER:$GROUP" "$p"
	chmod "$2" "$p"
	ck snap -q "$p"
}
can "$STRANGER" "$STRANGER" ls "$T" || skip "other users cannot reach $T (TMPDIR)"
mkproj closed 0700
mkproj group 0750
mkproj public 0755
# 0755 projects in folders that let fewer users through: a 0700 home, a
# 0750 one of the projects' group, a 0711 one anyone may pass.
mkproj h700/inhome 0755
mkproj h750/ingroup 0755
mkproj h711/passable 0755
chown "$OWNER:$GROUP" "$T/h700" "$T/h750" "$T/h711"
chmod 700 "$T/h700"
chmod 750 "$T/h750"
chmod 711 "$T/h711"
ck snap -q "$T/h700/inhome"
ck snap -q "$T/h750/ingroup"
ck snap -q "$T/h711/passable"

M=$T/mnt
mount_ckpt "$M" -o allow_other
grep " $M " /proc/mounts | grep -q allow_other || fail "not mounted with allow_other"

snap() { # the snapshot folder of project $1 (through latest)
	printf '%s/%s/%s' "$M" "$1" "$(readlink "$M/$1/latest")"
}

# --- the snapshot folder serves the project root's mode and owner ---------------
for p in closed:700 group:750 public:755; do
	name=${p%%:*} mode=${p#*:}
	got=$(stat -c '%a %u %g' "$(snap "$name")")
	[ "$got" = "$mode $OWNER $GROUP" ] || fail "$name: snapshot folder is '$got', wanted '$mode $OWNER $GROUP'"
done

# --- what the folders above the root let through ---------------------------
for p in inhome:700 ingroup:750 passable:755; do
	name=${p%%:*} mode=${p#*:}
	got=$(stat -c '%a %u %g' "$(snap "$name")")
	[ "$got" = "$mode $OWNER $GROUP" ] || fail "$name: snapshot folder is '$got', wanted '$mode $OWNER $GROUP'"
done
can "$OWNER" "$GROUP" cat "$(snap inhome)/open.txt" || fail "inhome: the owner cannot read"
cannot "$MEMBER" "$GROUP" cat "$(snap inhome)/open.txt" || fail "inhome: a member reads through a 0700 home"
cannot "$STRANGER" "$STRANGER" cat "$(snap inhome)/open.txt" || fail "inhome: a stranger reads through a 0700 home"
can "$MEMBER" "$GROUP" cat "$(snap ingroup)/open.txt" || fail "ingroup: a member cannot read"
cannot "$STRANGER" "$STRANGER" cat "$(snap ingroup)/open.txt" || fail "ingroup: a stranger reads through a 0750 home"
can "$STRANGER" "$STRANGER" cat "$(snap passable)/open.txt" || fail "passable: a stranger cannot read through a 0711 home"

# --- a 0700 project: its owner reads it, nobody else does -----------------------
S=$(snap closed)
can "$OWNER" "$GROUP" cat "$S/open.txt" || fail "closed: the owner cannot read"
can "$OWNER" "$GROUP" cat "$S/private/f.txt" || fail "closed: the owner cannot read private/"
for who in "$MEMBER $GROUP" "$STRANGER $STRANGER"; do
	# shellcheck disable=SC2086
	cannot $who ls "$S" || fail "closed: $who lists the snapshot"
	# shellcheck disable=SC2086
	cannot $who cat "$S/open.txt" || fail "closed: $who reads open.txt"
	# shellcheck disable=SC2086
	cannot $who cat "$M/closed/latest/sub/f.txt" || fail "closed: $who reads through latest"
done

# --- 0750: the group reads, others do not ---------------------------------------
S=$(snap group)
can "$MEMBER" "$GROUP" cat "$S/open.txt" || fail "group: a member cannot read"
can "$MEMBER" "$GROUP" cat "$S/sub/f.txt" || fail "group: a member cannot read sub/"
cannot "$MEMBER" "$GROUP" cat "$S/private/f.txt" || fail "group: a member reads private/"
cannot "$STRANGER" "$STRANGER" cat "$S/open.txt" || fail "group: a stranger reads"

# --- 0755: everyone reads what is world-readable, not a 0700 subfolder ----------
S=$(snap public)
can "$STRANGER" "$STRANGER" cat "$S/open.txt" || fail "public: a stranger cannot read"
can "$STRANGER" "$STRANGER" cat "$S/sub/f.txt" || fail "public: a stranger cannot read sub/"
cannot "$STRANGER" "$STRANGER" cat "$S/private/f.txt" || fail "public: a stranger reads private/"

# --- @versions merges every snapshot: the mounting user's only ------------------
[ "$(stat -c '%a %u' "$M/public/@versions")" = "500 0" ] || fail "@versions: $(stat -c '%a %u' "$M/public/@versions")"
cat "$M/closed/@versions/private/f.txt/"* | grep -q '^hidden closed$' || fail "@versions: the mounting user cannot read"
for p in closed group public; do
	cannot "$OWNER" "$GROUP" ls "$M/$p/@versions" || fail "$p: another user lists @versions"
	cannot "$STRANGER" "$STRANGER" cat "$M/$p/@versions/private/f.txt/$(readlink "$M/$p/latest")" ||
		fail "$p: a stranger reads private/ through @versions"
done

# --- a new mode is the next snapshot's; the old snapshot keeps its own ----------
old=$(readlink "$M/public/latest")
sleep 1.1 # a new snapshot name
chmod 700 "$T/public"
ck snap -q "$T/public"
wait_for 60 "the new snapshot in the mount" test "$(readlink "$M/public/latest")" != "$old"
[ "$(stat -c %a "$(snap public)")" = 700 ] || fail "public after chmod 700: $(stat -c %a "$(snap public)")"
[ "$(stat -c %a "$M/public/$old")" = 755 ] || fail "the older snapshot changed mode"
cannot "$STRANGER" "$STRANGER" cat "$(snap public)/open.txt" || fail "public after chmod 700: a stranger reads"
can "$STRANGER" "$STRANGER" cat "$M/public/$old/open.txt" || fail "the older 0755 snapshot: a stranger cannot read"

# --- a snapshot from before the root was recorded: 0700, the mounting user's ----
# (tests/fixtures/repo-v1-*: written by ckptfs at dfd9e06, tree format 1)
ck umount "$M"
here=$(cd "$(dirname "$0")/../.." && pwd)
mkdir "$T/v1"
tar -C "$T/v1" -xzf "$here/tests/fixtures/repo-v1-tree-shadowed.tar.gz"
chmod 755 "$T/v1/proj"
CKPTFS_REPO=$T/v1/repo mount_ckpt "$M" -o allow_other
[ "$(stat -c '%a %u' "$M/proj/latest/")" = "700 0" ] || fail "an old snapshot: $(stat -c '%a %u' "$M/proj/latest/")"
cat "$M/proj/latest/readme.txt" >/dev/null || fail "an old snapshot: the mounting user cannot read"
cannot "$STRANGER" "$STRANGER" cat "$M/proj/latest/readme.txt" || fail "an old snapshot: a stranger reads"
echo "ok"
