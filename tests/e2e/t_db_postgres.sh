#!/bin/bash
# PostgreSQL end to end, against a real throwaway cluster: found through
# .env, dumped by `ckptfs snap` into @databases (checked by pg_restore
# --list), the dump and RESTORE.txt restored out of the snapshot; the data
# changed, `restore --db` (after a safety snapshot) and `--into` a new
# database give back exactly the rows of the snapshot; with the server
# down, snap commits a partial snapshot, exits 3 and names the database.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dbserver.sh"

pg_start
psql_q postgres "CREATE DATABASE app"
psql_q app "CREATE TABLE acct(id int PRIMARY KEY, owner text NOT NULL, amount bigint NOT NULL);
	CREATE INDEX acct_owner ON acct(owner);
	INSERT INTO acct SELECT g, 'owner' || (g % 97), g * 7 % 1000 FROM generate_series(1, 5000) g;
	CREATE VIEW rich AS SELECT * FROM acct WHERE amount > 900;
	CREATE SEQUENCE tickets START 42;"
# A dump far past a pipe's 64 KiB after its table of contents: the
# checker (pg_restore --list) exits early and the rest of the tee must be
# dropped, not block the dump (it hung: hence the timeout).
psql_q app "CREATE TABLE noise(id int PRIMARY KEY, h text NOT NULL);
	INSERT INTO noise SELECT g, md5(g::text) || md5((g * 7)::text) FROM generate_series(1, 20000) g;"
rows() { psql_q "$1" "SELECT count(*) || ' ' || md5(string_agg(id || ':' || owner || ':' || amount, ',' ORDER BY id)) FROM acct"; }
before=$(rows app)

P=$T/proj
mkdir -p "$P"
cd "$P"
printf 'print("app")\n' >app.py
printf 'DATABASE_URL=postgresql://postgres@/app?host=%s\n' "$PG_SOCK" >.env

# --- dry run: says what would be dumped and how; writes nothing -----------
expect_status 0 "$CKPTFS" snap --dry-run
grep -q "postgres  postgres-app  pg_dump --format=custom" "$T/stdout" || { cat "$T/stdout"; fail "dry run lists no pg_dump"; }
grep -q "via socket $PG_SOCK" "$T/stdout" || fail "dry run does not say how it connects"
[ ! -e "$CKPTFS_REPO" ] || fail "dry run created the repository"

# --- snap: the dump is in @databases and was checked --------------------
expect_status 0 timeout 300 "$CKPTFS" snap -t before
grep -Eq "postgres  postgres-app  ok \(pg_restore --list: [0-9]+ entries" "$T/stdout" ||
	{ cat "$T/stdout" "$T/stderr"; fail "snap does not report the checked dump"; }
expect_status 0 "$CKPTFS" show before
grep -q "^databases" "$T/stdout" || fail "show has no databases section"
grep -q "postgres-app  ok (pg_restore --list" "$T/stdout" || fail "show does not give the drill"

ck restore @databases --to "$T/out" >/dev/null
[ -s "$T/out/postgres-app.dump" ] || fail "no dump in @databases"
pg_restore --list "$T/out/postgres-app.dump" | grep -q "TABLE public acct" || fail "the dump has no acct table"
grep -qF "pg_restore --clean --if-exists --no-owner -h $PG_SOCK -U postgres -d app < postgres-app.dump" \
	"$T/out/RESTORE.txt" || { cat "$T/out/RESTORE.txt"; fail "RESTORE.txt lacks the restore command"; }
grep -q "ckptfs restore --db NAME --from WHEN" "$T/out/RESTORE.txt" || fail "RESTORE.txt lacks restore --db"
# In the mount, cp of the dump gives exactly the dump.
mount_ckpt "$T/mnt"
cp "$T/mnt/proj/@tags/before/@databases/postgres-app.dump" "$T/cp.dump"
cmp "$T/cp.dump" "$T/out/postgres-app.dump" || fail "the dump copied out of the mount differs"

# The dump restored by hand (as RESTORE.txt says) gives the same rows.
psql_q postgres "CREATE DATABASE byhand"
pg_restore --no-owner -h "$PG_SOCK" -U postgres -d byhand <"$T/out/postgres-app.dump" || fail "pg_restore by hand"
[ "$(rows byhand)" = "$before" ] || fail "rows restored by hand differ"

# --- change the data, then restore --db --------------------------------
psql_q app "UPDATE acct SET amount = amount + 1 WHERE id % 3 = 0; DELETE FROM acct WHERE id > 4900;
	INSERT INTO acct VALUES (10001, 'late', 1); DROP VIEW rich;"
changed=$(rows app)
[ "$changed" != "$before" ] || fail "the change did not change anything"

expect_status 0 "$CKPTFS" restore --db postgres-app --from before --dry-run
grep -q "^would restore database postgres-app from proj .* (@databases/postgres-app.dump, .*) into its database" \
	"$T/stdout" || { cat "$T/stdout"; fail "restore --db --dry-run"; }
[ "$(rows app)" = "$changed" ] || fail "the dry run changed the database"
expect_status 0 "$CKPTFS" restore --db postgres-app --from before
grep -q "^safety snapshot" "$T/stdout" || fail "no safety snapshot before restore --db"
grep -q "^restored database postgres-app from" "$T/stdout" || { cat "$T/stdout"; fail "no restore message"; }
[ "$(rows app)" = "$before" ] || fail "rows after restore --db differ from the snapshot's"
[ "$(psql_q app "SELECT count(*) FROM rich")" -gt 0 ] || fail "the view is not back"

# The safety snapshot holds the changed state: restoring it brings it back.
safety=$(sed -n 's/^safety snapshot [^ ]* \([^ ]*\) .*/\1/p' "$T/stdout")
[ -n "$safety" ] || fail "no safety snapshot name"
expect_status 0 "$CKPTFS" restore --db postgres-app --from "$safety" --into app_changed
[ "$(rows app_changed)" = "$changed" ] || fail "the safety snapshot does not hold the changed rows"

# --into a database that does not exist yet.
expect_status 0 "$CKPTFS" restore --db postgres-app --from before --into app_copy
[ "$(rows app_copy)" = "$before" ] || fail "rows restored --into differ"
[ "$(rows app)" = "$before" ] || fail "restore --into touched the original"

# An unknown name lists the known ones.
expect_status 1 "$CKPTFS" restore --db nope
grep -q "database nope: not found in this project (known: postgres-app)" "$T/stderr" || { cat "$T/stderr"; fail "unknown --db"; }

# --- server down: partial snapshot, exit 3, the database named ----------
pg_stop
expect_status 3 "$CKPTFS" snap -t down
grep -q "^ckptfs: database postgres-app: .*pg_dump" "$T/stderr" || { cat "$T/stderr"; fail "refusal not reported by name"; }
expect_status 0 "$CKPTFS" show down
grep -q "^status     partial" "$T/stdout" || fail "snapshot not marked partial"
grep -q "postgres-app  FAILED" "$T/stdout" || fail "show does not report the failed dump"
ck restore app.py --from down --to "$T/down.py" >/dev/null
cmp -s "$T/down.py" app.py || fail "the files of the partial snapshot are not there"
# Restoring over a database whose state cannot be saved is refused.
expect_status 1 "$CKPTFS" restore --db postgres-app --from before
grep -q "nothing restored: its current state could not be dumped" "$T/stderr" || { cat "$T/stderr"; fail "restore over an unsaved database"; }
echo ok
