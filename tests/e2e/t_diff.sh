#!/bin/bash
# diff: latest vs the working tree, one snapshot vs the working tree, two
# snapshots, one path; text, binary, SQLite, symlink, mode and type
# changes; odd names in every output form; exit statuses; bad input.
. "$(dirname "$0")/lib.sh"
command -v sqlite3 >/dev/null || skip "no sqlite3 command"

P=$T/myapp
mkdir -p "$P/src" "$P/node_modules/x"
cd "$P"
NL=$'new\nline.txt'
BAD=$'bad\xffname.txt'
printf 'a\nb\nc\n' >src/t.txt
printf '\0\1\2' >bin.dat
ln -s one link
echo same >same.sh
echo sp >"with space.txt"
echo n >"$NL"
echo b >"$BAD"
echo x >kind
echo dep >node_modules/x/i.js
echo gone >gone.txt
echo full >toempty.txt
sqlite3 app.db 'CREATE TABLE users(id INTEGER, name TEXT); INSERT INTO users VALUES (1,"a"),(2,"b"); CREATE TABLE old(x);'
sleep 0.3 # written well before the snapshot: not racy
ck snap -m s1 >/dev/null
S1=$(ck log --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["name"])')

# --- nothing changed: exit 0, no output, nothing read --------------------------
expect_status 0 "$CKPTFS" diff
[ ! -s "$T/stdout" ] || fail "diff on an unchanged tree printed something"
expect_status 0 "$CKPTFS" diff --stat
[ ! -s "$T/stdout" ] || fail "--stat on an unchanged tree printed something"
# No file content is read when every stat matches (the files cache's rule):
# only the repository's own files are opened.
if command -v strace >/dev/null; then
	# (LeakSanitizer cannot run under ptrace: off for this run of a sanitized build)
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
		strace -f -e trace=openat -o "$T/strace.txt" "$CKPTFS" diff >/dev/null || fail "diff under strace"
	opened=$(grep -v O_DIRECTORY "$T/strace.txt" | grep -E 'openat\([0-9]+, "' |
		grep -Ev 'openat\([0-9]+, "(format|key|packs/)' || true)
	[ -z "$opened" ] || fail "diff of an unchanged tree opened: $opened"
fi
touch src/t.txt # a new mtime, the same bytes: no change
expect_status 0 "$CKPTFS" diff
echo dep2 >node_modules/x/i.js # excluded like snap excludes it
expect_status 0 "$CKPTFS" diff

# --- changes -----------------------------------------------------------------
sleep 1.1
printf 'a\nB\nc\nd\n' >src/t.txt
printf '\0\1\2\3' >bin.dat
ln -sfn two link
chmod 755 same.sh
echo sp2 >"with space.txt"
echo n2 >"$NL"
echo b2 >"$BAD"
rm kind; mkdir kind; echo in >kind/inner
rm gone.txt
echo new >added.txt
: >toempty.txt
sqlite3 app.db 'INSERT INTO users VALUES (3,"c"); DROP TABLE old; CREATE TABLE fresh(y); INSERT INTO fresh VALUES (1);'

expect_status 1 "$CKPTFS" diff
cp "$T/stdout" "$T/patch.txt"
cat "$T/patch.txt"
grep -qx -- '--- a/src/t.txt' "$T/patch.txt" || fail "--- a/ label"
grep -qx -- '+++ b/src/t.txt' "$T/patch.txt" || fail "+++ b/ label"
grep -qx -- '-b' "$T/patch.txt" && grep -qx -- '+B' "$T/patch.txt" && grep -qx -- '+d' "$T/patch.txt" ||
	fail "text hunk"
grep -qx 'Binary files a/bin.dat and b/bin.dat differ (3 B -> 4 B)' "$T/patch.txt" || fail "binary line"
grep -qx -- '-symlink one' "$T/patch.txt" && grep -qx -- '+symlink two' "$T/patch.txt" || fail "symlink"
grep -A2 -x 'diff --ckptfs a/same.sh b/same.sh' "$T/patch.txt" | grep -qx 'new mode 100755' || fail "mode"
grep -qx '  table users: 2 -> 3 rows (+1)' "$T/patch.txt" || fail "sqlite row count"
grep -qx '  table old: deleted (0 rows)' "$T/patch.txt" || fail "sqlite deleted table"
grep -qx '  table fresh: added (1 rows)' "$T/patch.txt" || fail "sqlite added table"
grep -qx 'deleted file mode 100644' "$T/patch.txt" || fail "deleted file"
grep -qx -- '--- /dev/null' "$T/patch.txt" || fail "added file label"
grep -qx -- '--- a/new\\nline.txt' "$T/patch.txt" || fail "newline in a name, escaped"
grep -qx -- '--- a/bad\\xffname.txt' "$T/patch.txt" || fail "non-UTF-8 name, escaped"
grep -q 'with space.txt' "$T/patch.txt" || fail "name with a space"
grep -A4 -x 'diff --ckptfs a/toempty.txt b/toempty.txt' "$T/patch.txt" | grep -qx -- '-full' || fail "a file emptied"
! grep -q 'node_modules' "$T/patch.txt" || fail "excluded path in the diff"
! grep -q '\[3' "$T/patch.txt" || fail "colour off a terminal"

"$CKPTFS" diff --name-only >"$T/names.txt" && fail "diff --name-only: exit 0 with changes"
cat >"$T/want.txt" <<'W'
added.txt
app.db
bad\xffname.txt
bin.dat
gone.txt
kind/
kind/inner
link
new\nline.txt
same.sh
src/t.txt
toempty.txt
with space.txt
W
diff "$T/want.txt" "$T/names.txt" || fail "--name-only list"

"$CKPTFS" diff --stat >"$T/stat.txt" || true
cat "$T/stat.txt"
grep -qx ' M  src/t.txt  | +2 -1' "$T/stat.txt" || fail "--stat text line"
grep -qx " T  kind/" "$T/stat.txt" || fail "--stat type change"
grep -qx ' 13 paths changed: 2 added, 10 modified, 1 deleted' "$T/stat.txt" || fail "--stat summary"

"$CKPTFS" diff --json >"$T/d.json" || true
python3 - "$T/d.json" <<'PY' || fail "--json"
import json, sys
d = json.load(open(sys.argv[1]))
by = {c["path"]: c for c in d}
assert by["src/t.txt"]["change"] == "modified" and by["src/t.txt"]["content"] == "text", by["src/t.txt"]
assert by["src/t.txt"]["added_lines"] == 2 and by["src/t.txt"]["deleted_lines"] == 1
assert by["kind"]["change"] == "type-changed", by["kind"]
assert by["kind/inner"]["change"] == "added"
assert by["gone.txt"]["change"] == "deleted" and by["gone.txt"]["new"] is None
assert by["app.db"]["content"] == "sqlite"
assert by["bin.dat"]["content"] == "binary"
assert by["link"]["new"]["target"] == "two"
assert by["same.sh"]["old"]["mode"] == "0644" and by["same.sh"]["new"]["mode"] == "0755"
assert "new\nline.txt" in by and "bad\udcffname.txt" in by, list(by)
PY

# --- one path, and two snapshots ---------------------------------------------
"$CKPTFS" diff --name-only src >"$T/one.txt" || true
[ "$(cat "$T/one.txt")" = src/t.txt ] || fail "PATH limits the diff"
(cd src && "$CKPTFS" diff --name-only t.txt >"$T/one2.txt") || true
[ "$(cat "$T/one2.txt")" = src/t.txt ] || fail "PATH relative to the current directory"
ck snap -m s2 >/dev/null
expect_status 0 "$CKPTFS" diff
"$CKPTFS" diff --name-only "$S1" >"$T/vs1.txt" || true
diff "$T/want.txt" "$T/vs1.txt" || fail "diff WHEN: that snapshot vs the working tree"
"$CKPTFS" diff --name-only "$S1" latest >"$T/pair.txt" || true
diff "$T/want.txt" "$T/pair.txt" || fail "diff WHEN WHEN2"
"$CKPTFS" diff --name-only "$S1" latest -- src >"$T/pair1.txt" || true
[ "$(cat "$T/pair1.txt")" = src/t.txt ] || fail "two snapshots, one path"
(cd / && "$CKPTFS" diff --project myapp --name-only "$S1" latest >"$T/pairp.txt") || true
diff "$T/want.txt" "$T/pairp.txt" || fail "--project with two WHENs"
expect_status 0 "$CKPTFS" diff latest latest

# --- bad input ---------------------------------------------------------------
expect_status 2 "$CKPTFS" diff no-such-thing
grep -q '^ckptfs: diff: no-such-thing: not a snapshot' "$T/stderr" || fail "unknown WHEN/PATH message"
expect_status 2 "$CKPTFS" diff 2001-01-01
grep -q 'no snapshot at or before' "$T/stderr" || fail "WHEN before every snapshot"
expect_status 2 "$CKPTFS" diff --stat --json
expect_status 2 "$CKPTFS" diff a b c d
expect_status 2 "$CKPTFS" diff --project myapp
grep -q 'give two WHENs' "$T/stderr" || fail "--project without two WHENs"
mkdir "$T/elsewhere"
(cd "$T/elsewhere" && expect_status 2 "$CKPTFS" diff)
grep -q 'not in a registered project' "$T/stderr" || fail "unregistered working tree"
echo ok
