#!/bin/bash
# The migration version of every capture, against real servers: an
# Alembic table in PostgreSQL 15, a Rails schema_migrations in MariaDB and
# a Django django_migrations in a SQLite file.  `show` prints
# "schema  alembic 3f2a1b9c0d1e" under each database, `show --json` has
# it in the notes; once the live databases migrated on, `restore --db`
# (and its --dry-run) warns that the versions differ, restores, and the
# live version is the snapshot's again; restoring the same version again
# warns nothing.  (Each SQLite layout and the look-alike tables of other
# tools are in tests/test_dumper_migration.c.)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dbserver.sh"

pg_start
my_start
psql_q postgres "CREATE DATABASE app"
psql_q app "CREATE TABLE alembic_version (version_num varchar(32) NOT NULL PRIMARY KEY);
	INSERT INTO alembic_version VALUES ('3f2a1b9c0d1e');
	CREATE TABLE users(id int PRIMARY KEY); INSERT INTO users VALUES (1), (2);"
my_q "" "CREATE DATABASE shop"
my_q shop "CREATE TABLE schema_migrations (version varchar(255) NOT NULL PRIMARY KEY);
	CREATE TABLE ar_internal_metadata (\`key\` varchar(255) PRIMARY KEY, value varchar(255));
	INSERT INTO schema_migrations VALUES ('20240101000000'), ('20260301120000'), ('9');"

P=$T/proj
mkdir -p "$P/data"
cd "$P"
{
	printf 'DATABASE_URL=postgresql://postgres@/app?host=%s\n' "$PG_SOCK"
	printf 'SHOP_DATABASE_URL=mysql://root@localhost/shop?socket=%s\n' "$MY_SOCK"
} >.env
sqlite3 data/app.db "CREATE TABLE django_migrations (id integer PRIMARY KEY AUTOINCREMENT,
	app varchar(255) NOT NULL, name varchar(255) NOT NULL, applied datetime NOT NULL);
	INSERT INTO django_migrations(app, name, applied) VALUES ('auth', '0001_initial', 0),
	('auth', '0012_alter_user_first_name_max_length', 0), ('contenttypes', '0002_remove', 0);"

expect_status 0 "$CKPTFS" snap -t before
expect_status 0 "$CKPTFS" show before
grep -A2 "postgres  postgres-app  ok" "$T/stdout" | grep -q "^ *schema  alembic 3f2a1b9c0d1e$" ||
	{ cat "$T/stdout"; fail "show lacks postgres' alembic version"; }
grep -A2 "mysql     mysql-shop  ok" "$T/stdout" | grep -q "^ *schema  rails 20260301120000$" ||
	{ cat "$T/stdout"; fail "show lacks mariadb's rails version"; }
grep -A3 "sqlite    data/app.db  ok" "$T/stdout" |
	grep -q "^ *schema  django auth 0012_alter_user_first_name_max_length, contenttypes 0002_remove$" ||
	{ cat "$T/stdout"; fail "show lacks sqlite's django version"; }
expect_status 0 "$CKPTFS" show before --json
grep -q '"schema": {"tool": "alembic", "version": "3f2a1b9c0d1e"}' "$T/stdout" || fail "show --json lacks the schema"
grep -q '"schema": {"tool": "rails", "version": "20260301120000"}' "$T/stdout" || fail "show --json lacks rails"

# The live databases migrate on.
psql_q app "UPDATE alembic_version SET version_num = '9e8d7c6b5a4f'"
my_q shop "INSERT INTO schema_migrations VALUES ('20261203000000')"

expect_status 0 "$CKPTFS" restore --db postgres-app --from before --dry-run
grep -qx "ckptfs: restore: database postgres-app: schema differs: the snapshot holds alembic 3f2a1b9c0d1e, the live database is at alembic 9e8d7c6b5a4f (code written for the live schema may fail on the restored one)" \
	"$T/stderr" || { cat "$T/stderr"; fail "no schema warning on the dry run"; }
expect_status 0 "$CKPTFS" restore --db mysql-shop --from before
grep -q "schema differs: the snapshot holds rails 20260301120000, the live database is at rails 20261203000000" \
	"$T/stderr" || { cat "$T/stderr"; fail "no schema warning on restore --db"; }
[ "$(my_q shop "SELECT count(*) FROM schema_migrations WHERE version = '20261203000000'")" = 0 ] ||
	fail "the restore did not bring the old migration table back"
expect_status 0 "$CKPTFS" restore --db postgres-app --from before
grep -q "schema differs" "$T/stderr" || fail "no warning for postgres"
[ "$(psql_q app "SELECT version_num FROM alembic_version")" = 3f2a1b9c0d1e ] || fail "alembic not restored"
# Same version now: no warning.
expect_status 0 "$CKPTFS" restore --db postgres-app --from before
! grep -q "schema differs" "$T/stderr" || { cat "$T/stderr"; fail "a warning with equal versions"; }
echo ok
