#!/bin/bash
# Full drills against real servers (PostgreSQL 15, MariaDB): `snap
# --drill=full` restores each dump into a scratch database on the same
# server, compares its row counts with those at dump time (Postgres: in
# the dump's own snapshot; MariaDB: counted in the dump stream), drops
# the scratch database, and says "proven" in the snap's lines, `show` and
# `show --json`.  A dump that `pg_restore --list` accepts but that cannot
# be restored (a CHECK calling a function that reads a table restored
# later) passes the quick drill and fails the full one by name, exit 3,
# partial; no scratch database is left behind either way.  `check
# --drill` drills the latest captures later: proven with the counts
# recorded (every snap records them), "restored" without (psql failing
# at snap time), and a dump needing a role dropped since
# fails by name with exit 3, and status says so.  The migration version
# and the counts are the dump's own: a migration committed by another
# session while the dump runs (pg_dump, and mariadb-dump, waiting for a
# lock that session holds) is not the one recorded.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dbserver.sh"

pg_start
my_start
psql_q postgres "CREATE DATABASE app"
psql_q app "CREATE TABLE acct(id int PRIMARY KEY, owner text NOT NULL, amount bigint NOT NULL);
	INSERT INTO acct SELECT g, 'owner' || (g % 97), g * 7 % 1000 FROM generate_series(1, 5000) g;
	CREATE TABLE empty_one(x int); CREATE VIEW rich AS SELECT * FROM acct WHERE amount > 900;"
my_q "" "CREATE DATABASE shop"
my_q shop "CREATE TABLE item(id int PRIMARY KEY, name varchar(80), note text) ENGINE=InnoDB;
	INSERT INTO item VALUES (1, 'a(b', 'semi;colon'), (2, 'quote''s', 'back\\\\slash\\\\'), (3, NULL, '(((');
	CREATE TABLE big(id int PRIMARY KEY) ENGINE=InnoDB;"
for i in $(seq 1 20); do my_q shop "INSERT INTO big VALUES ($i)"; done

P=$T/proj
mkdir -p "$P"
cd "$P"
echo 'print("app")' >app.py
{
	printf 'DATABASE_URL=postgresql://postgres@/app?host=%s\n' "$PG_SOCK"
	printf 'SHOP_DATABASE_URL=mysql://root@localhost/shop?socket=%s\n' "$MY_SOCK"
} >.env

no_scratch() {
	[ "$(psql_q postgres "SELECT count(*) FROM pg_database WHERE datname LIKE 'ckptfs_drill_%'")" = 0 ] ||
		fail "a Postgres scratch database was left behind"
	[ -z "$(my_q "" "SHOW DATABASES LIKE 'ckptfs\\_drill\\_%'")" ] || fail "a MariaDB scratch database was left behind"
}

# --- proven --------------------------------------------------------------
expect_status 0 "$CKPTFS" snap --drill=full -t full
grep -A3 "postgres  postgres-app  ok" "$T/stdout" |
	grep -Eq "^ +drill   proven: restored into a scratch database, 5,000 rows in 2 tables as at dump time \([0-9.]+ s\)$" ||
	{ cat "$T/stdout" "$T/stderr"; fail "no proven drill for postgres"; }
grep -A3 "mysql     mysql-shop  ok" "$T/stdout" |
	grep -Eq "^ +drill   proven: restored into a scratch database, 23 rows in 2 tables as at dump time" ||
	{ cat "$T/stdout" "$T/stderr"; fail "no proven drill for mariadb"; }
no_scratch
expect_status 0 "$CKPTFS" show full
grep -q "drill   proven: restored into a scratch database, 5,000 rows" "$T/stdout" || fail "show lacks the drill"
expect_status 0 "$CKPTFS" show full --json
grep -q '"drill": {"kind": "full", "ran": true, "ok": true, "result": "proven: ' "$T/stdout" ||
	fail "show --json lacks the drill"
grep -q '"tables": \[\["public.acct", 5000\], \["public.empty_one", 0\]\]' "$T/stdout" ||
	{ cat "$T/stdout"; fail "the postgres counts at dump time are not recorded"; }
grep -q '"tables": \[\["big", 20\], \["item", 3\]\]' "$T/stdout" ||
	{ cat "$T/stdout"; fail "the mariadb counts of the dump stream are not recorded"; }

# --- a dump pg_restore --list accepts, that does not restore -------------
psql_q app "CREATE TABLE z_parent(id int PRIMARY KEY); INSERT INTO z_parent VALUES (1), (2);
	CREATE FUNCTION parent_ok(p int) RETURNS boolean LANGUAGE plpgsql STABLE AS
	  \$\$BEGIN RETURN EXISTS (SELECT 1 FROM public.z_parent WHERE id = p); END\$\$;
	CREATE TABLE a_child(id int PRIMARY KEY, pid int CHECK (public.parent_ok(pid)));
	INSERT INTO a_child VALUES (10, 1), (11, 2);"
expect_status 0 "$CKPTFS" snap -t quick
grep -q "postgres-app  ok (pg_restore --list" "$T/stdout" || fail "the quick drill should pass"
! grep -q "drill   " "$T/stdout" || fail "a quick snap ran a full drill"
expect_status 3 "$CKPTFS" snap --drill=full -t broken
grep -q "^ckptfs: database postgres-app: drill failed: the restore into a scratch database failed: .*a_child" \
	"$T/stderr" || { cat "$T/stderr"; fail "the unrestorable dump does not fail the drill by name"; }
! grep -q "mysql-shop" "$T/stderr" || fail "mariadb's drill failed too"
no_scratch
expect_status 0 "$CKPTFS" show broken
grep -q "^status     partial" "$T/stdout" || fail "a failed drill does not make the snapshot partial"
grep -q "drill   FAILED: the restore into a scratch database failed" "$T/stdout" || fail "show lacks the failed drill"
expect_status 1 "$CKPTFS" status
grep -q "failing .*database postgres-app: drill failed" "$T/stdout" || { cat "$T/stdout"; fail "status does not say the drill failed"; }
# The dump is kept: the files and the other database are in the snapshot.
ck restore @databases --from broken --to "$T/out" >/dev/null
[ -s "$T/out/postgres-app.dump" ] && [ -s "$T/out/mysql-shop.sql" ] || fail "the dumps are not in the snapshot"

# log: a drill column, only where a full drill ran.
ck log >"$T/log.txt"
grep -E "^[0-9T:.-]+ +partial .*  drill failed  \[broken\]$" "$T/log.txt" >/dev/null || { cat "$T/log.txt"; fail "log: no 'drill failed'"; }
grep -E "^[0-9T:.-]+ +[0-9,]+ files .*  proven +\[full\]$" "$T/log.txt" >/dev/null || { cat "$T/log.txt"; fail "log: no 'proven'"; }
grep -E " +\[quick\]$" "$T/log.txt" | grep -vq "proven\|failed" || fail "log: a quick snap with a drill verdict"
# A quick snap after it: the latest full drill still failed.
expect_status 0 "$CKPTFS" snap -q
expect_status 1 "$CKPTFS" status
grep -q "failing .*the latest full drill failed (snapshot " "$T/stdout" || { cat "$T/stdout"; fail "status forgets the failed drill"; }
# Fixed: proven again, status ok and says so.
psql_q app "DROP TABLE a_child"
expect_status 0 "$CKPTFS" snap --drill=full -t fixed
expect_status 0 "$CKPTFS" status
grep -q " ok .*full drill proven in snapshot " "$T/stdout" || { cat "$T/stdout"; fail "status does not give the drill"; }
expect_status 0 "$CKPTFS" status --json
grep -q '"drill": {"result": "proven", "snapshot": "' "$T/stdout" || fail "status --json lacks the drill"
no_scratch

# --- check --drill: the latest captures, drilled later ------------------
expect_status 0 "$CKPTFS" check --drill
grep -Eq "^proj [0-9T:.-]+  postgres-app  proven: restored into a scratch database, 5,002 rows in 3 tables as at dump time \([0-9.]+ s\)$" \
	"$T/stdout" || { cat "$T/stdout" "$T/stderr"; fail "check --drill: postgres not proven"; }
grep -q "  mysql-shop  proven: " "$T/stdout" || fail "check --drill: mariadb not proven"
no_scratch
# A quick snap records the counts too: Postgres's in the dump's own
# snapshot, MySQL's from the stream; check --drill proves it.
expect_status 0 "$CKPTFS" snap -q
expect_status 0 "$CKPTFS" check --drill --db postgres-app
grep -q "  postgres-app  proven: restored into a scratch database, 5,002 rows in 3 tables as at dump time" \
	"$T/stdout" || { cat "$T/stdout"; fail "check --drill after a quick snap: not proven"; }
! grep -q mysql-shop "$T/stdout" || fail "--db drilled another database"
# No counts recorded (psql failing at snap time): restored, not proven.
mkdir -p "$T/badpsql"
printf '#!/bin/sh\nexit 2\n' >"$T/badpsql/psql"
chmod +x "$T/badpsql/psql"
PATH="$T/badpsql:$PATH" expect_status 0 "$CKPTFS" snap -q
expect_status 0 "$CKPTFS" check --drill --db postgres-app
grep -q "  postgres-app  restored into a scratch database, 5,002 rows in 3 tables (no counts recorded at dump time to compare)" \
	"$T/stdout" || { cat "$T/stdout"; fail "check --drill without counts"; }
# A dump that needs a role dropped since: the drill fails by name, exit 3.
psql_q postgres "CREATE ROLE reader"
psql_q app "GRANT SELECT ON acct TO reader"
expect_status 0 "$CKPTFS" snap -q
psql_q app "REVOKE SELECT ON acct FROM reader"
psql_q postgres "DROP ROLE reader"
expect_status 3 "$CKPTFS" check --drill --project proj
grep -q '^ckptfs: database postgres-app: drill failed: the restore into a scratch database failed: .*role "reader" does not exist' \
	"$T/stderr" || { cat "$T/stdout" "$T/stderr"; fail "check --drill: the dropped role does not fail the drill"; }
grep -q "  postgres-app  FAILED: " "$T/stdout" || fail "check --drill: no FAILED line"
grep -q "  mysql-shop  proven: " "$T/stdout" || fail "check --drill: mariadb should still be proven"
no_scratch
expect_status 1 "$CKPTFS" status
grep -q "failing .*the latest full drill failed (snapshot " "$T/stdout" || { cat "$T/stdout"; fail "status ignores check --drill"; }
expect_status 1 "$CKPTFS" check --drill --project nope
grep -q "check --drill: project nope: not found" "$T/stderr" || fail "--project nope"
expect_status 1 "$CKPTFS" check --drill --db nope
grep -q "check --drill: database nope: not in the latest snapshot" "$T/stderr" || fail "--db nope"
expect_status 2 "$CKPTFS" check --db postgres-app
expect_status 2 "$CKPTFS" check --drill --repair

expect_status 2 "$CKPTFS" snap --drill=deep
grep -q "drill=deep: quick or full" "$T/stderr" || fail "bad --drill value"

# --- the migration version and the counts are the dump's own -----------
# Another session locks acct and, while pg_dump waits for that lock (its
# snapshot already taken), moves the migration on and adds rows, then
# commits.  The snapshot records the version and counts pg_dump saw: the
# old version (asked after the dump it would be the new one), and counts
# that the restored dump matches (proven).
psql_q app "CREATE TABLE alembic_version(version_num varchar(32) PRIMARY KEY);
	INSERT INTO alembic_version VALUES ('aaaa00000001')"
mkfifo "$T/x.in"
psql -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCK" -U postgres -d app <"$T/x.in" >"$T/x.out" 2>&1 &
track_pid $!
exec 7>"$T/x.in"
echo "BEGIN; LOCK TABLE acct IN ACCESS EXCLUSIVE MODE;
	UPDATE alembic_version SET version_num = 'bbbb00000002';
	INSERT INTO acct SELECT g, 'late', 0 FROM generate_series(100001, 100010) g;" >&7
until [ "$(psql_q app "SELECT count(*) FROM pg_locks WHERE relation = 'acct'::regclass
	AND mode = 'AccessExclusiveLock' AND granted")" = 1 ]; do sleep 0.1; done
"$CKPTFS" snap -t racing >"$T/race.out" 2>&1 &
snap_pid=$!
track_pid $snap_pid
until [ "$(psql_q app "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pg_dump'
	AND wait_event_type = 'Lock'")" = 1 ]; do sleep 0.1; done
echo "COMMIT;" >&7
exec 7>&-
wait $snap_pid || { cat "$T/race.out"; fail "snap during the migration exited $?"; }
[ "$(psql_q app "SELECT version_num FROM alembic_version")" = bbbb00000002 ] || fail "the migration did not commit"
expect_status 0 "$CKPTFS" show racing
grep -q "schema  alembic aaaa00000001" "$T/stdout" ||
	{ cat "$T/stdout"; fail "the migration version is not the dump's own"; }
expect_status 0 "$CKPTFS" check --drill --db postgres-app
grep -q "  postgres-app  proven: restored into a scratch database, 5,003 rows in 4 tables as at dump time" \
	"$T/stdout" || { cat "$T/stdout"; fail "the counts are not the dump's own"; }
no_scratch

# --- MySQL: the migration version is read from the dump stream ----------
# MySQL cannot share the dump's snapshot, so the version comes from the
# dump's own INSERTs of alembic_version.  A session locks aaa_first (the
# dump's first table) and alembic_version; while mariadb-dump waits for
# that lock, its snapshot already taken, the session moves the version on
# and unlocks.  Asked after the dump it would be the new version.
my_q shop "CREATE TABLE aaa_first(id int PRIMARY KEY) ENGINE=InnoDB; INSERT INTO aaa_first VALUES (1);
	CREATE TABLE alembic_version(version_num varchar(32) NOT NULL PRIMARY KEY) ENGINE=InnoDB;
	INSERT INTO alembic_version VALUES ('aaaa00000001')"
mkfifo "$T/m.in"
mariadb --no-defaults --socket="$MY_SOCK" -uroot -N -B --unbuffered shop <"$T/m.in" >"$T/m.out" 2>&1 &
track_pid $!
exec 8>"$T/m.in"
echo "LOCK TABLES aaa_first WRITE, alembic_version WRITE; SELECT 'locked';" >&8
wait_for 60 "the session's lock" grep -q locked "$T/m.out"
"$CKPTFS" snap -t myracing >"$T/myrace.out" 2>&1 &
snap_pid=$!
track_pid $snap_pid
dump_waits() { [ "$(my_q "" "SELECT count(*) FROM information_schema.processlist
	WHERE state = 'Waiting for table metadata lock' AND info LIKE '%FROM \`aaa_first\`%'")" = 1 ]; }
wait_for 120 "mariadb-dump waiting for the lock" dump_waits
echo "UPDATE alembic_version SET version_num = 'bbbb00000002'; UNLOCK TABLES;" >&8
exec 8>&-
wait $snap_pid || { cat "$T/myrace.out"; fail "snap during the mysql migration exited $?"; }
[ "$(my_q shop "SELECT version_num FROM alembic_version")" = bbbb00000002 ] || fail "the mysql migration did not commit"
expect_status 0 "$CKPTFS" show myracing
grep -A3 "mysql     mysql-shop  ok" "$T/stdout" | grep -q "schema  alembic aaaa00000001" ||
	{ cat "$T/stdout"; fail "the mysql migration version is not the dump's own"; }
# A quick snap now records the new one, read from the stream too.
expect_status 0 "$CKPTFS" snap -t myafter
expect_status 0 "$CKPTFS" show myafter
grep -A3 "mysql     mysql-shop  ok" "$T/stdout" | grep -q "schema  alembic bbbb00000002" ||
	{ cat "$T/stdout"; fail "the mysql migration version after the race"; }
echo ok
