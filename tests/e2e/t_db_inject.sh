#!/bin/bash
# A project's .env must not steer the database tools (issue 8, item 3):
# option-file injection through every field of a MariaDB URL, and a
# Postgres database name that is a connection string, against the real
# mariadb-dump and pg_dump.  Each is refused with a line naming the file
# and key; the victim file is untouched; snap is partial (3).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dbserver.sh"

my_start
my_q "" "CREATE DATABASE shop"
P=$T/proj
mkdir -p "$P"
cd "$P"
printf 'x\n' >app.py
printf 'precious\n' >"$T/victim.txt"
inj='%22%0A%5Bmariadb-dump%5D%0Aresult-file%3D'"$(printf %s "$T/victim.txt" | sed 's,/,%2F,g')"'%0Aloose-zz%3D'
for url in "mysql://root:a${inj}@localhost/shop?socket=$MY_SOCK" \
	"mysql://root${inj}@localhost/shop?socket=$MY_SOCK" \
	"mysql://root@localhost/shop${inj}?socket=$MY_SOCK" \
	"mysql://root@localhost/shop?socket=$MY_SOCK${inj}"; do
	printf 'MYSQL_URL=%s\n' "$url" >.env
	expect_status 3 "$CKPTFS" snap
	grep -q "^ckptfs: database mysql-.*: \.env: MYSQL_URL: .* refused" "$T/stderr" ||
		{ cat "$T/stderr"; fail "no refusal naming .env and the key for $url"; }
	[ "$(cat "$T/victim.txt")" = precious ] || fail "the victim file was written through $url"
done
# An injected host is not a local host: not dumped at all.
printf 'MYSQL_URL=mysql://root@localhost%s/shop\n' "$inj" >.env
expect_status 0 "$CKPTFS" snap
[ "$(cat "$T/victim.txt")" = precious ] || fail "the victim file was written through the host"
# The honest URL still dumps.
printf 'MYSQL_URL=mysql://root@localhost/shop?socket=%s\n' "$MY_SOCK" >.env
expect_status 0 "$CKPTFS" snap
my_stop

pg_start
printf 'DATABASE_URL=postgres://postgres@localhost/host=192.0.2.1%%20dbname=postgres?host=%s\n' "$PG_SOCK" >.env
expect_status 3 "$CKPTFS" snap
grep -q "\.env: DATABASE_URL: database looks like a connection string; refused" "$T/stderr" ||
	{ cat "$T/stderr"; fail "the database name was read as a connection string"; }
# A socket followed by a remote host is not local: not dumped.
printf 'DATABASE_URL=postgres://u@localhost/db?host=%s,192.0.2.1\n' "$PG_SOCK" >.env
expect_status 0 "$CKPTFS" snap --dry-run
grep -q "skipped: remote host" "$T/stdout" || { cat "$T/stdout"; fail "host list taken for local"; }
pg_stop
echo ok
