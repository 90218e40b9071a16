# dbserver.sh — throwaway database servers for end-to-end tests.  Source it
# after lib.sh:
#
#   . "$(dirname "$0")/dbserver.sh"
#   pg_start            # PostgreSQL 15 cluster; sets PG_SOCK (socket dir)
#   my_start            # MariaDB server; sets MY_SOCK (socket path)
#   psql_q DB SQL       # one query, unaligned output without headers
#   my_q DB SQL         # one query, tab-separated without headers
#   pg_stop / my_stop   # stop (also done by the EXIT trap, even on failure)
#
# Both listen only on a Unix socket inside $T (no TCP port).  PostgreSQL
# refuses to run as root, so its cluster belongs to the unprivileged
# `postgres` user (made by the Debian package) and runs under runuser; the
# connection is `trust` for the socket only.  MariaDB runs as the `mysql`
# user; root connects through the socket with unix_socket authentication.
# Servers are started with durability off (fsync) to keep the tests quick.

PG_BIN=/usr/lib/postgresql/15/bin

_db_need_root() {
	[ "$(id -u)" = 0 ] || skip "database servers: these tests need root (runuser)"
}

# The servers' users must reach their directories inside $T (0700 by
# mktemp): let everyone traverse it, not list it.
_db_open_t() { chmod 0711 "$T"; }

pg_start() {
	_db_need_root
	[ -x "$PG_BIN/initdb" ] || skip "PostgreSQL 15 is not installed (scripts/install-deps.sh test)"
	id postgres >/dev/null 2>&1 || skip "no 'postgres' user to run the cluster as"
	_db_open_t
	PG_DIR=$T/pg
	PG_SOCK=$PG_DIR/sock
	mkdir -p "$PG_SOCK"
	chown -R postgres: "$PG_DIR"
	chmod 0755 "$PG_DIR"
	runuser -u postgres -- "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres -A trust -E UTF8 \
		--no-sync >"$PG_DIR/initdb.log" 2>&1 || { cat "$PG_DIR/initdb.log" >&2; fail "initdb failed"; }
	at_exit pg_stop
	runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
		-o "-c listen_addresses='' -k $PG_SOCK -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
		start >/dev/null || { cat "$PG_DIR/server.log" >&2; fail "postgres did not start"; }
	_pg_running=1
}

pg_stop() {
	[ -n "${_pg_running:-}" ] || return 0
	runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w -t 30 stop >/dev/null 2>&1 ||
		runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1 ||
		true
	_pg_running=
}

# psql_q DB SQL: run SQL, print rows as a|b, no header; fail the test on error.
psql_q() {
	psql -X -q -v ON_ERROR_STOP=1 -A -t -h "$PG_SOCK" -U postgres -d "$1" -c "$2" ||
		fail "psql $1: $2"
}

my_start() {
	_db_need_root
	command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ] ||
		skip "MariaDB server is not installed (scripts/install-deps.sh test)"
	id mysql >/dev/null 2>&1 || skip "no 'mysql' user to run the server as"
	_db_open_t
	MY_DIR=$T/my
	MY_SOCK=$MY_DIR/mysqld.sock
	# Its own temp dir: the caller's $TMPDIR may not be writable by mysql.
	mkdir -p "$MY_DIR/data" "$MY_DIR/tmp"
	chown -R mysql: "$MY_DIR"
	chmod 0755 "$MY_DIR"
	mariadb-install-db --no-defaults --user=mysql --datadir="$MY_DIR/data" --skip-test-db \
		--tmpdir="$MY_DIR/tmp" \
		--auth-root-authentication-method=socket >"$MY_DIR/install.log" 2>&1 ||
		{ cat "$MY_DIR/install.log" >&2; fail "mariadb-install-db failed"; }
	at_exit my_stop
	/usr/sbin/mariadbd --no-defaults --user=mysql --datadir="$MY_DIR/data" --socket="$MY_SOCK" \
		--pid-file="$MY_DIR/mysqld.pid" --log-error="$MY_DIR/error.log" --skip-networking \
		--tmpdir="$MY_DIR/tmp" \
		--innodb-buffer-pool-size=32M --innodb-flush-log-at-trx-commit=0 --skip-log-bin \
		>/dev/null 2>&1 &
	_my_pid=$!
	# Up to 120 s (was 300 polls, some 30 s: InnoDB's start on a loaded
	# machine can take longer); a server that died ends the wait at once.
	local end=$((SECONDS + 120))
	while [ $SECONDS -lt $end ]; do
		mariadb-admin --no-defaults --socket="$MY_SOCK" -uroot ping >/dev/null 2>&1 && return 0
		kill -0 "$_my_pid" 2>/dev/null || break
		sleep 0.1
	done
	cat "$MY_DIR/error.log" >&2
	fail "mariadbd did not start"
}

my_stop() {
	[ -n "${_my_pid:-}" ] || return 0
	kill "$_my_pid" 2>/dev/null || true
	local i
	for i in $(seq 1 100); do
		kill -0 "$_my_pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$_my_pid" 2>/dev/null || true
	wait "$_my_pid" 2>/dev/null || true
	_my_pid=
}

# my_q DB SQL: run SQL, print rows tab-separated, no header.
my_q() {
	mariadb --no-defaults --socket="$MY_SOCK" -uroot -N -B "$1" -e "$2" || fail "mariadb $1: $2"
}
