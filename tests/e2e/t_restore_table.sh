#!/bin/bash
# restore FILE.db --table T: a SQLite database in WAL mode with two tables;
# after the snapshot, a bad change to `users` and new rows in `events`.
# With a writer committing to `events` all along, `restore data/app.db
# --table users` brings back exactly the snapshot's users (same rows,
# same content), leaves every row written to events since, takes a safety
# snapshot first (that holds the bad users: restoring from it undoes the
# restore), and --dry-run writes nothing.  A table whose schema changed
# since, or that is in one side only, is refused and nothing is written.
. "$(dirname "$0")/lib.sh"
command -v sqlite3 >/dev/null || skip "no sqlite3 command"
command -v python3 >/dev/null || skip "no python3"

P=$T/proj
mkdir -p "$P/data"
cd "$P"
db=data/app.db
sqlite3 "$db" "PRAGMA journal_mode=WAL; CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT NOT NULL);
	CREATE TABLE events(id INTEGER PRIMARY KEY, what TEXT);
	WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500)
	INSERT INTO users SELECT i, 'user' || i FROM n;
	INSERT INTO events(what) VALUES ('boot');" >/dev/null
users() { sqlite3 "$db" "SELECT count(*) || ' ' || coalesce(sum(length(name) * id), 0) FROM users"; }
want=$(users)
ck snap -q -t good

# The bad change, and a writer on the other table from now on.
sqlite3 "$db" "DELETE FROM users WHERE id % 3 = 0; UPDATE users SET name = 'x' WHERE id < 50;"
bad=$(users)
[ "$bad" != "$want" ] || fail "the change changed nothing"
cat >"$T/writer.py" <<'PY'
import os, sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], timeout=30, isolation_level=None)
while not os.path.exists(sys.argv[2]):
    db.execute("INSERT INTO events(what) VALUES ('tick')")
    time.sleep(0.005)
PY
python3 "$T/writer.py" "$db" "$T/writer.stop" &
writer=$!
track_pid $writer
writing() { [ "$(sqlite3 "$db" "SELECT count(*) FROM events")" -gt 5 ]; }
wait_for 60 "the writer did not start" writing
before_events=$(sqlite3 "$db" "SELECT count(*) FROM events")

expect_status 0 "$CKPTFS" restore "$db" --table users --from good --dry-run
grep -q "^would restore table users of data/app.db from proj .*: 500 rows (now 334)" "$T/stdout" ||
	{ cat "$T/stdout" "$T/stderr"; fail "dry run"; }
[ "$(users)" = "$bad" ] || fail "the dry run wrote"

expect_status 0 "$CKPTFS" restore "$db" --table users --from good
grep -q "^safety snapshot proj " "$T/stdout" || fail "no safety snapshot"
grep -q "^restored table users of data/app.db from proj .*: 500 rows (were 334)" "$T/stdout" ||
	{ cat "$T/stdout" "$T/stderr"; fail "restore --table"; }
touch "$T/writer.stop"
wait $writer || fail "the writer failed (a lock held too long?)"
[ "$(users)" = "$want" ] || fail "users are not the snapshot's"
after_events=$(sqlite3 "$db" "SELECT count(*) FROM events")
[ "$after_events" -gt "$before_events" ] || fail "rows written to events since are gone ($before_events -> $after_events)"
[ "$(sqlite3 "$db" "PRAGMA integrity_check")" = ok ] || fail "integrity_check after the restore"

# Undo: the safety snapshot holds the bad users.
safety=$(sed -n 's/^safety snapshot proj \([^ ]*\) .*/\1/p' "$T/stdout")
expect_status 0 "$CKPTFS" restore "$db" --table users --from "$safety"
[ "$(users)" = "$bad" ] || fail "restoring the safety snapshot does not undo"

# A schema that moved on: refused, nothing written, no safety snapshot.
sqlite3 "$db" "ALTER TABLE users ADD COLUMN email TEXT"
n_snaps=$("$CKPTFS" log | wc -l)
expect_status 1 "$CKPTFS" restore "$db" --table users --from good
grep -qx "ckptfs: data/app.db: table users: its schema differs between the snapshot and the live database (restore the whole file, or migrate first); nothing restored" \
	"$T/stderr" || { cat "$T/stderr"; fail "schema mismatch not refused"; }
[ "$(sqlite3 "$db" "SELECT count(*) FROM users")" = 334 ] || fail "a refused restore wrote"
[ "$("$CKPTFS" log | wc -l)" = "$n_snaps" ] || fail "a refused restore took a safety snapshot"
expect_status 1 "$CKPTFS" restore "$db" --table nope --from good
grep -q "table nope: not in the snapshot's copy; nothing restored" "$T/stderr" || fail "unknown table"
# Not a database, and --table where it does not belong.
echo hi >notes.txt
ck snap -q
expect_status 1 "$CKPTFS" restore notes.txt --table users
grep -q "notes.txt: not a SQLite database ckptfs captured" "$T/stderr" || fail "--table on a plain file"
expect_status 2 "$CKPTFS" restore "$db" --table users --to "$T/out"
expect_status 1 "$CKPTFS" restore --db postgres-app --table users
grep -q "database postgres-app: not found in this project" "$T/stderr" || fail "--db --table of an unknown database"
echo ok
