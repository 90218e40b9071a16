#!/bin/bash
# Full drills in a private temporary server (issue 15): the project's
# roles may not create databases (Postgres NOCREATEDB, MariaDB without
# CREATE), so `snap --drill=full` and `check --drill` start a server of
# their own (initdb + postgres, mariadb-install-db + mariadbd) on a Unix
# socket in a 0700 temp dir, restore there and compare the counts: the
# verdict says "proven in a private server" in the snap's lines, show,
# show --json, log and status.  ckptfs runs as nobody (initdb refuses
# root).  An unrestorable dump fails the drill by name (exit 3).  A
# ckptfs killed (kill -9) while its private server runs leaves the
# server; the next snap stops it and removes its dir.  A SIGTERM stops
# the server with ckptfs.  As root the
# verdict says a private server cannot be started as root.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dbserver.sh"

[ "$(id -u)" = 0 ] || skip "needs root to run ckptfs as nobody (setpriv)"
command -v setpriv >/dev/null || skip "setpriv is not installed"
[ -x /usr/lib/postgresql/15/bin/initdb ] || skip "initdb is not installed (tests/install-deps.sh)"
command -v mariadb-install-db >/dev/null || skip "mariadb-install-db is not installed (tests/install-deps.sh)"

pg_start
my_start
# Roles that may read and dump, not create databases.
psql_q postgres "CREATE ROLE app LOGIN NOCREATEDB NOSUPERUSER"
psql_q postgres "CREATE DATABASE app OWNER app"
psql -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCK" -U app -d app -c "
	CREATE TABLE acct(id int PRIMARY KEY, owner text NOT NULL, amount bigint NOT NULL);
	INSERT INTO acct SELECT g, 'owner' || (g % 97), g * 7 % 1000 FROM generate_series(1, 5000) g;
	CREATE TABLE empty_one(x int); CREATE VIEW rich AS SELECT * FROM acct WHERE amount > 900;" ||
	fail "making the app tables"
psql_q postgres "CREATE ROLE reader; GRANT CONNECT ON DATABASE app TO reader"
psql -X -q -h "$PG_SOCK" -U app -d app -c "GRANT SELECT ON acct TO reader" || fail "grant"
my_q "" "CREATE DATABASE shop; CREATE USER shopper@localhost IDENTIFIED BY 'pw';
	GRANT SELECT, LOCK TABLES, SHOW VIEW, TRIGGER, EVENT ON shop.* TO shopper@localhost"
my_q shop "CREATE TABLE item(id int PRIMARY KEY, name varchar(80)) ENGINE=InnoDB;
	INSERT INTO item VALUES (1, 'a(b'), (2, 'quote''s'), (3, NULL);
	CREATE DEFINER=shopper@localhost VIEW named AS SELECT id FROM item WHERE name IS NOT NULL;
	CREATE DEFINER=shopper@localhost TRIGGER item_upper BEFORE INSERT ON item FOR EACH ROW SET NEW.name = UPPER(NEW.name);"

# nobody's project, repository, home and temp dir.
chmod 0711 "$T"
N=$T/nb
mkdir -p "$N/proj" "$N/home" "$N/tmp" "$N/bin"
cp "$CKPTFS" "$N/bin/ckptfs"
echo 'print("app")' >"$N/proj/app.py"
{
	printf 'DATABASE_URL=postgresql://app@/app?host=%s\n' "$PG_SOCK"
	printf 'SHOP_DATABASE_URL=mysql://shopper:pw@localhost/shop?socket=%s\n' "$MY_SOCK"
} >"$N/proj/.env"
chown -R 65534:65534 "$N"
chmod 0700 "$N/tmp"
TN=$N/tmp
NB=(setpriv --reuid=65534 --regid=65534 --clear-groups env HOME="$N/home" CKPTFS_REPO="$N/repo"
	TMPDIR="$TN" XDG_STATE_HOME="$N/home/state" "$N/bin/ckptfs")
asnobody() { "${NB[@]}" "$@"; }
# Processes running in a dir under $TN (a private server's).
servers_in() { local p; for p in /proc/[0-9]*; do
	case "$(readlink "$p/cwd" 2>/dev/null)" in "$1"*) echo "${p#/proc/}" ;; esac
done; }
no_leftover() {
	! ls -d "$TN"/ckptfs-drillsrv-* >/dev/null 2>&1 || { ls -la "$TN"; fail "a private server's dir was left behind"; }
	[ -z "$(servers_in "$TN/ckptfs-drillsrv-")" ] || fail "a private server still runs"
}
cd "$N/proj"

# The real servers refuse a scratch database to these roles.
! psql -X -q -h "$PG_SOCK" -U app -d app -c "CREATE DATABASE nope" 2>/dev/null || fail "app may create databases"

# --- proven in a private server ------------------------------------------
expect_status 0 asnobody snap --drill=full -t full
grep -A3 "postgres  postgres-app  ok" "$T/stdout" |
	grep -Eq "^ +drill   proven in a private server \(PostgreSQL 15\): 5,000 rows in 2 tables as at dump time \([0-9.]+ s\)$" ||
	{ cat "$T/stdout" "$T/stderr"; fail "postgres: not proven in a private server"; }
grep -A3 "mysql     mysql-shop  ok" "$T/stdout" |
	grep -Eq "^ +drill   proven in a private server \(MariaDB [0-9]+\.[0-9]+\): 3 rows in 1 table as at dump time" ||
	{ cat "$T/stdout" "$T/stderr"; fail "mariadb: not proven in a private server"; }
no_leftover
[ "$(psql_q postgres "SELECT count(*) FROM pg_database WHERE datname LIKE 'ckptfs_drill_%'")" = 0 ] ||
	fail "a scratch database on the real server"
expect_status 0 asnobody show full
grep -q "drill   proven in a private server (PostgreSQL 15): 5,000 rows" "$T/stdout" || fail "show lacks the drill"
expect_status 0 asnobody show full --json
grep -q '"result": "proven in a private server (PostgreSQL 15): 5,000 rows in 2 tables as at dump time", "ntables": 2, "rows": 5000, "ms": [0-9]*, "where": "private server"}' \
	"$T/stdout" || { cat "$T/stdout"; fail "show --json: the drill is not where it ran"; }
expect_status 0 asnobody log
grep -Eq "  proven in a private server +\[full\]$" "$T/stdout" || { cat "$T/stdout"; fail "log: no private server"; }
expect_status 0 asnobody status
grep -q " ok .*full drill proven in a private server in snapshot " "$T/stdout" || { cat "$T/stdout"; fail "status"; }
expect_status 0 asnobody check --drill
grep -Eq "^proj [0-9T:.-]+  postgres-app  proven in a private server \(PostgreSQL 15\): 5,000 rows in 2 tables as at dump time \([0-9.]+ s\)$" \
	"$T/stdout" || { cat "$T/stdout" "$T/stderr"; fail "check --drill: postgres"; }
grep -q "  mysql-shop  proven in a private server (MariaDB " "$T/stdout" || fail "check --drill: mariadb"
expect_status 0 asnobody status --json
grep -q '"drill": {"result": "proven in a private server", "snapshot": "' "$T/stdout" ||
	{ cat "$T/stdout"; fail "status --json after check --drill"; }
no_leftover

# --- a dump that does not restore fails the drill -----------------------
psql -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCK" -U app -d app -c "
	CREATE TABLE z_parent(id int PRIMARY KEY); INSERT INTO z_parent VALUES (1), (2);
	CREATE FUNCTION parent_ok(p int) RETURNS boolean LANGUAGE plpgsql STABLE AS
	  \$\$BEGIN RETURN EXISTS (SELECT 1 FROM public.z_parent WHERE id = p); END\$\$;
	CREATE TABLE a_child(id int PRIMARY KEY, pid int CHECK (public.parent_ok(pid)));
	INSERT INTO a_child VALUES (10, 1), (11, 2);" || fail "the unrestorable tables"
expect_status 3 asnobody snap --drill=full -t broken
grep -q "^ckptfs: database postgres-app: drill failed: the restore into a private server (PostgreSQL 15) failed: .*a_child" \
	"$T/stderr" || { cat "$T/stderr"; fail "the unrestorable dump does not fail the drill"; }
! grep -q "mysql-shop" "$T/stderr" || fail "mariadb's drill failed too"
no_leftover
expect_status 1 asnobody status
grep -q "failing .*database postgres-app: drill failed" "$T/stdout" || { cat "$T/stdout"; fail "status: the failed drill"; }
psql -X -q -h "$PG_SOCK" -U app -d app -c "DROP TABLE a_child" || fail "drop"

# --- kill -9 during a private drill: the next drill reaps the server ----
# A pg_restore that blocks (after saying so) holds the drill while its
# private server runs.
mkdir -p "$N/slow"
cat >"$N/slow/pg_restore" <<EOF
#!/bin/sh
case " \$* " in *" --list "*) exec /usr/bin/pg_restore "\$@" ;; esac
echo \$\$ >"$N/slow/pid"
exec sleep 600
EOF
chmod 755 "$N/slow/pg_restore"
chown -R 65534:65534 "$N/slow"
expect_status 0 asnobody snap -q
# (setpriv execs env, which execs ckptfs: $! is ckptfs.)
PATH="$N/slow:$PATH" "${NB[@]}" check --drill --db postgres-app >"$T/killed.out" 2>&1 &
victim=$!
track_pid $victim
wait_for 120 "the blocked restore of the private drill" test -s "$N/slow/pid"
left=$(ls -d "$TN"/ckptfs-drillsrv-*)
[ -d "$left/data" ] || fail "no private server dir while the drill runs"
kill -9 "$victim"
wait "$victim" 2>/dev/null || true
kill "$(cat "$N/slow/pid")" 2>/dev/null || true
[ -d "$left" ] || fail "the dir went with kill -9 (nothing to reap)"
[ -n "$(servers_in "$left/data")" ] || fail "the private server died with ckptfs (nothing to reap)"
at_exit "for p in \$(servers_in '$left/data'); do kill -9 \$p; done"
# Any snap reaps it (the next full drill may be a month away).
expect_status 0 asnobody snap
grep -q "^stopped 1 private drill server left by killed runs$" "$T/stdout" ||
	{ cat "$T/stdout"; fail "the next snap did not say it stopped the leftover server"; }
[ -z "$(servers_in "$left/data")" ] || fail "the leftover private server was not stopped"
[ ! -e "$left" ] || fail "the leftover private server's dir was not removed"
no_leftover

# --- SIGTERM during a private drill: the server stops with ckptfs -------
rm -f "$N/slow/pid"
PATH="$N/slow:$PATH" "${NB[@]}" check --drill --db postgres-app >"$T/termed.out" 2>&1 &
victim=$!
track_pid $victim
wait_for 120 "the blocked restore of the private drill" test -s "$N/slow/pid"
left=$(ls -d "$TN"/ckptfs-drillsrv-*)
[ -n "$(servers_in "$left/data")" ] || fail "no private server while the drill runs"
kill -TERM "$victim"
wait "$victim" 2>/dev/null || true
kill "$(cat "$N/slow/pid")" 2>/dev/null || true
# The postmaster's immediate shutdown takes its children with it: up to
# a minute on a loaded machine (a bound, not a measure).
server_gone() { [ -z "$(servers_in "$left/data")" ]; }
wait_for 60 "the private server outlived a SIGTERM of ckptfs" server_gone
expect_status 0 asnobody check --drill --db mysql-shop
[ ! -e "$left" ] || fail "the next drill did not remove the stopped server's dir"
no_leftover

# --- as root: said, not tried --------------------------------------------
expect_status 3 env CKPTFS_REPO="$N/repo" HOME="$N/home" TMPDIR="$TN" XDG_STATE_HOME="$T/rootstate" \
	"$CKPTFS" check --drill --db postgres-app
grep -q "^ckptfs: database postgres-app: drill failed: cannot create a scratch database: .*; no private server either: cannot start a private server as root$" \
	"$T/stderr" || { cat "$T/stderr"; fail "as root"; }
echo ok
