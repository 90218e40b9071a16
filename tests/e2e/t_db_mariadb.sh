#!/bin/bash
# MariaDB end to end, against a real throwaway server: found through .env,
# dumped by `ckptfs snap` with mariadb-dump --single-transaction into
# @databases (checked for its completion trailer), the data changed,
# `restore --db` (after a safety snapshot) and `--into` a new database give
# back exactly the rows of the snapshot, with triggers and routines; with
# the server down, snap commits a partial snapshot, exits 3 and names it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dbserver.sh"

my_start
my_q "" "CREATE DATABASE shop"
my_q shop "CREATE TABLE acct(id int PRIMARY KEY, owner varchar(40) NOT NULL, amount bigint NOT NULL) ENGINE=InnoDB;
	CREATE TABLE audit(n int) ENGINE=InnoDB;
	CREATE TRIGGER acct_ins AFTER INSERT ON acct FOR EACH ROW INSERT INTO audit VALUES (NEW.id);
	CREATE FUNCTION twice(x int) RETURNS int DETERMINISTIC RETURN 2 * x;
	INSERT INTO acct SELECT seq, concat('owner', seq % 97), seq * 7 % 1000 FROM seq_1_to_5000;"
rows() { my_q "$1" "SELECT concat(count(*), ' ', md5(group_concat(id, ':', owner, ':', amount ORDER BY id SEPARATOR ','))) FROM acct"; }
my_q "" "SET GLOBAL group_concat_max_len = 1048576"
before=$(rows shop)

P=$T/proj
mkdir -p "$P"
cd "$P"
printf 'print("shop")\n' >app.py
printf 'DATABASE_URL=mysql://root@localhost/shop?socket=%s\n' "$MY_SOCK" >.env

expect_status 0 "$CKPTFS" snap --dry-run
grep -q "mysql     mysql-shop  mariadb-dump/mysqldump --single-transaction" "$T/stdout" || { cat "$T/stdout"; fail "dry run"; }

# The project's own @databases cannot hide the dumps: it is left out.
mkdir "$P/@databases"
printf 'mine\n' >"$P/@databases/own.txt"
expect_status 0 "$CKPTFS" snap -t before
grep -q "^ckptfs: @databases: left out: the name is reserved for ckptfs" "$T/stderr" ||
	{ cat "$T/stderr"; fail "no warning about the project's own @databases"; }
grep -q "mysql     mysql-shop  ok (-- Dump completed" "$T/stdout" || { cat "$T/stdout" "$T/stderr"; fail "snap does not report the checked dump"; }
ck restore @databases --to "$T/out" >/dev/null
tail -n1 "$T/out/mysql-shop.sql" | grep -q "^-- Dump completed" || fail "the dump is incomplete"
[ ! -e "$T/out/own.txt" ] || fail "the project's own @databases got into the snapshot's"
grep -q "CREATE TABLE \`acct\`" "$T/out/mysql-shop.sql" || fail "the dump has no acct table"
grep -qF "mysql --socket=$MY_SOCK -u root -p shop < mysql-shop.sql" "$T/out/RESTORE.txt" ||
	{ cat "$T/out/RESTORE.txt"; fail "RESTORE.txt lacks the restore command"; }

# Change rows, the trigger and the function; restore --db.
my_q shop "UPDATE acct SET amount = amount + 1 WHERE id % 3 = 0; DELETE FROM acct WHERE id > 4900;
	INSERT INTO acct VALUES (10001, 'late', 1); DROP TRIGGER acct_ins; DROP FUNCTION twice;"
changed=$(rows shop)
[ "$changed" != "$before" ] || fail "the change did not change anything"
expect_status 0 "$CKPTFS" restore --db mysql-shop --from before
grep -q "^safety snapshot" "$T/stdout" || fail "no safety snapshot"
[ "$(rows shop)" = "$before" ] || fail "rows after restore --db differ"
[ "$(my_q shop "SELECT twice(21)")" = 42 ] || fail "the function is not back"
my_q shop "INSERT INTO acct VALUES (20000, 'x', 1)"
[ "$(my_q shop "SELECT count(*) FROM audit WHERE n = 20000")" = 1 ] || fail "the trigger is not back"
my_q shop "DELETE FROM acct WHERE id = 20000"

expect_status 0 "$CKPTFS" restore --db mysql-shop --from before --into shop_copy
[ "$(rows shop_copy)" = "$before" ] || fail "rows restored --into differ"

my_stop
expect_status 3 "$CKPTFS" snap -t down
grep -q "^ckptfs: database mysql-shop: .*" "$T/stderr" || { cat "$T/stderr"; fail "refusal not reported by name"; }
grep -qi "socket\|connect" "$T/stderr" || { cat "$T/stderr"; fail "the tool's own message is missing"; }
expect_status 0 "$CKPTFS" show down
grep -q "^status     partial" "$T/stdout" || fail "snapshot not marked partial"
echo ok
