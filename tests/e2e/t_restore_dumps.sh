#!/bin/bash
# t_restore_dumps.sh — `restore .` into the project leaves out the
# snapshot's @databases/ folder (issue 8, item 8): server dumps and
# RESTORE.txt are not the project's files, and `git add -A` would pick
# them up.  Asked for by path (`restore @databases/...`, `restore
# @databases`) or restored elsewhere (`--to`), the folder comes back; a
# project's own @databases/ in a snapshot without server databases is the
# project's and is restored with `.`.
#
# The server database is one that refuses the connection (port 1): its dump
# fails, and the snapshot's @databases/ holds the RESTORE.txt that says so,
# which is all this test needs (no server, no dump tool required).
. "$(dirname "$0")/lib.sh"

P=$T/proj
mkdir -p "$P/src"
echo 'DATABASE_URL=postgres://app@localhost:1/app' >"$P/.env"
echo one >"$P/src/a.txt"
rc=0
"$CKPTFS" snap -q -t orig "$P" 2>"$T/stderr" || rc=$?
[ "$rc" = 3 ] || { cat "$T/stderr" >&2; fail "snap with a refusing database exited $rc, wanted 3"; }
ck restore -p proj --from orig @databases/RESTORE.txt --to "$T/check/" >/dev/null
[ -s "$T/check/RESTORE.txt" ] || fail "the snapshot has no @databases/RESTORE.txt"

if command -v git >/dev/null; then
	git -C "$P" init -q
	git -C "$P" -c user.name=t -c user.email=t@t commit -q --allow-empty -m init
fi

# A dry run does not list it.
(cd "$P" && ck restore --from orig . --dry-run >"$T/dry")
grep -v '^left out' "$T/dry" | grep -q "@databases" && { cat "$T/dry"; fail "restore . --dry-run lists @databases"; }
grep -q '^left out @databases/' "$T/dry" || { cat "$T/dry"; fail "dry run does not say @databases is left out"; }

# restore . (from the project and from a subdirectory, PATH the root).
echo changed >"$P/src/a.txt"
(cd "$P" && ck restore --from orig . >"$T/out")
[ ! -e "$P/@databases" ] || fail "restore . wrote @databases/ into the project"
[ "$(cat "$P/src/a.txt")" = one ] || fail "restore . did not restore src/a.txt"
grep -q '^left out @databases/' "$T/out" || { cat "$T/out"; fail "restore . does not say @databases is left out"; }
(cd "$P/src" && ck restore --from orig "$P" >/dev/null)
[ ! -e "$P/@databases" ] || fail "restore of the project root by absolute path wrote @databases/"
if command -v git >/dev/null; then
	git -C "$P" add -A
	git -C "$P" diff --cached --name-only | grep -q '^@databases/' && fail "git add -A picks up @databases/"
fi
echo "restore .: @databases/ left out"

# Asked for by path, it is restored.
(cd "$P" && ck restore --from orig @databases/RESTORE.txt >/dev/null)
cmp "$P/@databases/RESTORE.txt" "$T/check/RESTORE.txt" || fail "restore @databases/RESTORE.txt"
rm -rf "$P/@databases"
(cd "$P/src" && ck restore --from orig @databases >/dev/null)
cmp "$P/@databases/RESTORE.txt" "$T/check/RESTORE.txt" || fail "restore @databases"
rm -rf "$P/@databases"
echo "restore @databases/...: restored"

# Elsewhere (--to), the whole snapshot, dumps included.
ck restore -p proj --from orig . --to "$T/copy" >/dev/null
cmp "$T/copy/@databases/RESTORE.txt" "$T/check/RESTORE.txt" || fail "restore . --to lacks @databases"
echo "restore . --to DEST: @databases/ included"

# A project's own @databases/ (no server database): kept by snap, and
# restored by restore . like any folder.
Q=$T/plain
mkdir -p "$Q/@databases"
echo mine >"$Q/@databases/notes.txt"
ck snap -q -t orig "$Q"
rm -rf "$Q/@databases"
(cd "$Q" && ck restore --from orig . >"$T/out")
[ "$(cat "$Q/@databases/notes.txt" 2>/dev/null)" = mine ] || fail "a project's own @databases/ not restored"
grep -q '^left out' "$T/out" && fail "a project's own @databases/ reported as left out"
echo "a project's own @databases/: restored"
