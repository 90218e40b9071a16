#!/bin/bash
# The repository is owner-only: everything in it is created 0600 (dirs
# 0700) whatever the umask, catalog.db-wal/-shm included, and a repository
# directory (or its packs/, tmp/) that group or others can write to is
# refused by every command with one line saying how to fix it.
. "$(dirname "$0")/lib.sh"

P=$T/proj
mkdir "$P"
printf 'hello\n' >"$P/a.txt"
python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute("CREATE TABLE t(x)"); c.commit()' "$P/app.db"
cd "$P"

# --- created owner-only under a permissive umask ------------------------------
(umask 000 && "$CKPTFS" snap -q) || fail "snap under umask 000"
(umask 000 && "$CKPTFS" snap -q -m again) || fail "second snap"
loose=$(find "$CKPTFS_REPO" \( -type d ! -perm 0700 \) -o \( ! -type d ! -perm 0600 \) -printf '%m %p\n')
[ -z "$loose" ] || fail "not owner-only: $loose"
[ -f "$CKPTFS_REPO/catalog.db" ] && [ -d "$CKPTFS_REPO/packs" ] || fail "repository layout"
# While a reader has the catalog open (the mount), -wal and -shm exist: 0600.
mount_ckpt "$T/mnt"
ls "$T/mnt/proj" >/dev/null
for f in catalog.db catalog.db-wal catalog.db-shm; do
	[ ! -e "$CKPTFS_REPO/$f" ] || [ "$(stat -c %a "$CKPTFS_REPO/$f")" = 600 ] ||
		fail "$f is $(stat -c %a "$CKPTFS_REPO/$f")"
done
ck umount "$T/mnt"

# An older ckptfs's world-readable catalog is tightened by the next writer.
chmod 0644 "$CKPTFS_REPO/catalog.db"
ck snap -q
[ "$(stat -c %a "$CKPTFS_REPO/catalog.db")" = 600 ] || fail "catalog.db not tightened"

# --- a repository others can write to is refused ------------------------------
# expect_refused DIR CMD...: status 1, one line naming DIR and the fix.
expect_refused() {
	local dir=$1; shift
	expect_status 1 "$@"
	[ "$(wc -l <"$T/stderr")" = 1 ] || { cat "$T/stderr" >&2; fail "$*: want one line on stderr"; }
	grep -Fqx "ckptfs: repository $dir: group or others can write to it (mode $(stat -c %04a "$dir")); fix it with: chmod go-w $dir" \
		"$T/stderr" || fail "$*: stderr is '$(cat "$T/stderr")'"
}
before=$(cd "$CKPTFS_REPO" && find . -printf '%p %s %T@\n' | sort)
for d in "$CKPTFS_REPO" "$CKPTFS_REPO/packs" "$CKPTFS_REPO/tmp"; do
	for m in 0777 0770 0702 1777; do
		chmod "$m" "$d"
		expect_refused "$d" "$CKPTFS" snap
		expect_refused "$d" "$CKPTFS" log
		expect_refused "$d" "$CKPTFS" show --project proj
		expect_refused "$d" "$CKPTFS" projects
		expect_refused "$d" "$CKPTFS" restore --project proj --to "$T/out" a.txt
		[ ! -e "$T/out" ] || fail "restore from a refused repository wrote $T/out"
		expect_refused "$d" "$CKPTFS" check
		expect_refused "$d" "$CKPTFS" check --repair
		mkdir -p "$T/mnt2"
		expect_refused "$d" "$CKPTFS" mount "$T/mnt2"
		! mountpoint -q "$T/mnt2" || { fusermount3 -u "$T/mnt2"; fail "mounted a refused repository"; }
		chmod 0700 "$d"
	done
done
# Nothing was written while refused.
chmod 0700 "$CKPTFS_REPO"
after=$(cd "$CKPTFS_REPO" && find . -printf '%p %s %T@\n' | sort)
[ "$before" = "$after" ] || fail "a refused command changed the repository: $(diff <(echo "$before") <(echo "$after"))"

# The fix it names works; readable-by-others is not refused.
chmod 0755 "$CKPTFS_REPO"
ck log >/dev/null
ck snap -q

# A fresh, empty directory others can write to is not made into a repository.
mkdir -m 0777 "$T/shared"
chmod 0777 "$T/shared"
CKPTFS_REPO=$T/shared expect_refused "$T/shared" "$CKPTFS" snap
[ -z "$(ls -A "$T/shared")" ] || fail "wrote into a refused directory: $(ls -A "$T/shared")"
echo ok
