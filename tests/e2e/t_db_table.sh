#!/bin/bash
# restore --db NAME --table T against a real PostgreSQL 15: after the
# snapshot, a bad change to `acct` and new rows in `audit`; the table
# restore brings back exactly the snapshot's acct rows, keeps every row
# written to audit since, and takes a safety snapshot first.  --into a
# scratch database (made with restore --db --into) restores there only.
# A table another table references by a foreign key is refused with the
# server's words, and nothing changes (one transaction).  MariaDB: the
# dump's section of the table alone (DROP, CREATE, rows) is replayed;
# other tables and a view over the table stay; an unknown table is
# refused.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dbserver.sh"

pg_start
my_start
my_q "" "CREATE DATABASE shop"
my_q shop "CREATE TABLE item(id int PRIMARY KEY, name varchar(40)) ENGINE=InnoDB;
	INSERT INTO item VALUES (1, 'a'), (2, 'b(;'), (3, 'it''s');
	CREATE TABLE log(n int AUTO_INCREMENT PRIMARY KEY, what varchar(40)) ENGINE=InnoDB;
	INSERT INTO log(what) VALUES ('boot');
	CREATE VIEW named AS SELECT name FROM item;"
psql_q postgres "CREATE DATABASE app"
psql_q app "CREATE TABLE acct(id int PRIMARY KEY, owner text NOT NULL, amount bigint NOT NULL);
	INSERT INTO acct SELECT g, 'owner' || (g % 97), g * 7 % 1000 FROM generate_series(1, 3000) g;
	CREATE TABLE audit(n serial PRIMARY KEY, what text);
	INSERT INTO audit(what) VALUES ('boot');
	CREATE TABLE parent(id int PRIMARY KEY); INSERT INTO parent VALUES (1), (2);
	CREATE TABLE child(id int PRIMARY KEY, pid int REFERENCES parent(id)); INSERT INTO child VALUES (1, 1);"
rows() { psql_q app "SELECT count(*) || ' ' || md5(string_agg(id || ':' || owner || ':' || amount, ',' ORDER BY id)) FROM acct"; }
want=$(rows)

P=$T/proj
mkdir -p "$P"
cd "$P"
{
	printf 'DATABASE_URL=postgresql://postgres@/app?host=%s\n' "$PG_SOCK"
	printf 'SHOP_DATABASE_URL=mysql://root@localhost/shop?socket=%s\n' "$MY_SOCK"
} >.env
ck snap -q -t good

psql_q app "DELETE FROM acct WHERE id % 5 = 0; UPDATE acct SET amount = -1 WHERE id < 100;
	INSERT INTO audit(what) SELECT 'later ' || g FROM generate_series(1, 40) g;"
bad=$(rows)
[ "$bad" != "$want" ] || fail "the change changed nothing"

expect_status 0 "$CKPTFS" restore --db postgres-app --table acct --from good --dry-run
grep -q "^would restore table acct of database postgres-app from proj " "$T/stdout" || { cat "$T/stdout"; fail "dry run"; }
[ "$(rows)" = "$bad" ] || fail "the dry run wrote"

expect_status 0 "$CKPTFS" restore --db postgres-app --table acct --from good
grep -q "^safety snapshot proj " "$T/stdout" || fail "no safety snapshot"
grep -q "^restored table acct of database postgres-app from proj .* into its database" "$T/stdout" ||
	{ cat "$T/stdout" "$T/stderr"; fail "no restore line"; }
[ "$(rows)" = "$want" ] || fail "acct is not the snapshot's"
[ "$(psql_q app "SELECT count(*) FROM audit")" = 41 ] || fail "rows written to audit since are gone"
# The live schema is kept: the primary key is still there.
[ "$(psql_q app "SELECT count(*) FROM pg_indexes WHERE tablename = 'acct'")" -ge 1 ] || fail "acct lost its index"

# --into a scratch database: only there.
expect_status 0 "$CKPTFS" restore --db postgres-app --from good --into scratch
psql_q scratch "DELETE FROM acct"
psql_q app "UPDATE acct SET amount = 5 WHERE id = 1"
expect_status 0 "$CKPTFS" restore --db postgres-app --table acct --from good --into scratch
[ "$(psql_q scratch "SELECT count(*) FROM acct")" = 3000 ] || fail "--into: acct not restored there"
[ "$(psql_q app "SELECT amount FROM acct WHERE id = 1")" = 5 ] || fail "--into touched the live database"

# Referenced by a foreign key: refused, nothing changed.
psql_q app "DELETE FROM child; DELETE FROM parent WHERE id = 2; INSERT INTO child VALUES (1, 1)"
expect_status 1 "$CKPTFS" restore --db postgres-app --table parent --from good
grep -q "cannot truncate a table referenced in a foreign key constraint" "$T/stderr" ||
	{ cat "$T/stderr"; fail "a referenced table not refused with the server's words"; }
grep -q "nothing changed: one transaction" "$T/stderr" || fail "the refusal does not say nothing changed"
[ "$(psql_q app "SELECT count(*) FROM parent")" = 1 ] || fail "a refused table restore changed parent"
expect_status 1 "$CKPTFS" restore --db postgres-app --table "bad
name" --from good

# --- MariaDB: the dump's section of the table ------------------------------
items() { my_q shop "SELECT group_concat(id, ':', name ORDER BY id SEPARATOR ',') FROM item"; }
want_items=$(items)
my_q shop "DELETE FROM item WHERE id = 2; UPDATE item SET name = 'x'; INSERT INTO log(what) VALUES ('a'), ('b')"
expect_status 0 "$CKPTFS" restore --db mysql-shop --table item --from good
grep -q "^restored table item of database mysql-shop from proj " "$T/stdout" || { cat "$T/stdout" "$T/stderr"; fail "mariadb table restore"; }
[ "$(items)" = "$want_items" ] || fail "item is not the snapshot's ($(items))"
[ "$(my_q shop "SELECT count(*) FROM log")" = 3 ] || fail "rows written to log since are gone"
[ "$(my_q shop "SELECT count(*) FROM named")" = 3 ] || fail "the view over item is gone"
expect_status 1 "$CKPTFS" restore --db mysql-shop --table nope --from good
grep -q "database mysql-shop: table nope: not in the snapshot's dump; nothing restored" "$T/stderr" ||
	{ cat "$T/stderr"; fail "unknown mariadb table"; }
echo ok
