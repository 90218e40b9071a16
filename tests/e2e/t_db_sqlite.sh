#!/bin/bash
# SQLite through the real `ckptfs snap`:
#  - consistency: writer processes commit transfers between rows (the total
#    stays constant) in a WAL database and in a rollback-journal one while
#    snap runs, again and again; every captured copy, restored with --to,
#    passes integrity_check and keeps the total;
#  - the -wal/-shm/-journal siblings are not in the snapshot;
#  - no lasting change: snapping databases in every state (WAL with and
#    without a -wal, a WAL left by a crash, rollback mode, a name without
#    .db) leaves the project byte-for-byte and stat-for-stat as it was,
#    and databases unchanged since the last snapshot are not copied again;
#  - a database locked for longer than the busy limit is stored raw,
#    flagged, with a warning: partial, exit 3;
#  - a damaged database fails its drill: snap names it and exits 3.
# CKPTFS_LONG=1 repeats the consistency run 200 times instead of 25.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || skip "python3 is needed for the writer processes"

P=$T/proj
mkdir -p "$P/data"
cd "$P"
printf 'print("app")\n' >app.py

# writer.py DB MODE: create the accounts (1000 rows, total 1,000,000) and
# 2 MiB of padding so a capture takes several backup steps, then move
# money between random rows, one transaction each, until killed.
cat >"$T/writer.py" <<'EOF'
import random, sqlite3, sys, os, time
db, mode = sys.argv[1], sys.argv[2]
c = sqlite3.connect(db, timeout=30, isolation_level=None)
c.execute("PRAGMA journal_mode=" + mode)
c.execute("CREATE TABLE IF NOT EXISTS acct(id INTEGER PRIMARY KEY, bal INTEGER NOT NULL)")
c.execute("CREATE TABLE IF NOT EXISTS pad(id INTEGER PRIMARY KEY, b BLOB)")
c.execute("CREATE TABLE IF NOT EXISTS log(id INTEGER PRIMARY KEY, a INT, b INT, x INT)")
c.execute("CREATE INDEX IF NOT EXISTS log_a ON log(a)")
if c.execute("SELECT count(*) FROM acct").fetchone()[0] == 0:
    c.execute("BEGIN")
    c.executemany("INSERT INTO acct VALUES (?, 1000)", [(i,) for i in range(1000)])
    c.executemany("INSERT INTO pad(b) VALUES (?)", [(os.urandom(2000),) for _ in range(1000)])
    c.execute("COMMIT")
open(db + ".ready", "w").close()
r = random.Random(1)
while True:
    a, b, x = r.randrange(1000), r.randrange(1000), r.randrange(100)
    c.execute("BEGIN IMMEDIATE")
    c.execute("UPDATE acct SET bal = bal - ? WHERE id = ?", (x, a))
    c.execute("INSERT INTO log(a, b, x) VALUES (?, ?, ?)", (a, b, x))
    c.execute("UPDATE pad SET b = randomblob(2000) WHERE id = ?", (r.randrange(1, 1001),))
    c.execute("UPDATE acct SET bal = bal + ? WHERE id = ?", (x, b))
    c.execute("COMMIT")
    # A rollback-mode writer that never pauses leaves a reader no gap to
    # copy in without holding it up (ckptfs would store the file raw, as
    # the last part shows); real apps pause.  WAL writers need no pause.
    if mode != "WAL":
        time.sleep(0.002)
EOF

# check.py FILE...: integrity_check ok and the total unchanged, for each.
cat >"$T/check.py" <<'EOF'
import sqlite3, sys
for f in sys.argv[1:]:
    c = sqlite3.connect("file:%s?mode=ro" % f, uri=True)
    ic = c.execute("PRAGMA integrity_check").fetchall()
    total = c.execute("SELECT sum(bal), count(*) FROM acct").fetchone()
    if ic != [("ok",)] or total != (1000000, 1000):
        print("%s: integrity %r, total %r" % (f, ic[:3], total)); sys.exit(1)
EOF

start_writer() {
	python3 "$T/writer.py" "$1" "$2" &
	track_pid $!
	wait_for 60 "writer on $1 did not start" test -e "$1.ready"
	rm -f "$1.ready"
}
start_writer "$P/data/wal.db" WAL
start_writer "$P/data/rollback.db" DELETE
w1=${_pids[0]} w2=${_pids[1]}

repeats=${REPEATS:-25}
[ -n "${CKPTFS_LONG:-}" ] && repeats=200
for i in $(seq 1 "$repeats"); do
	expect_status 0 "$CKPTFS" snap -q -t "r$i"
	kill -0 "$w1" && kill -0 "$w2" || fail "a writer died (lock held too long?)"
done
expect_status 0 "$CKPTFS" show "r$repeats"
grep -q "data/wal.db  ok (integrity_check; 3 tables" "$T/stdout" || { cat "$T/stdout"; fail "no drill for wal.db"; }
grep -q "data/rollback.db  ok (integrity_check; 3 tables" "$T/stdout" || fail "no drill for rollback.db"
for i in $(seq 1 "$repeats"); do
	ck restore data --from "r$i" --to "$T/r$i" >/dev/null
	[ -z "$(ls "$T/r$i" | grep -E -- '-(wal|shm|journal)$')" ] || fail "snapshot r$i holds -wal/-shm/-journal files"
	python3 "$T/check.py" "$T/r$i/wal.db" "$T/r$i/rollback.db" || fail "the copy in snapshot r$i is inconsistent"
	rm -rf "$T/r$i"
done
kill "$w1" "$w2"
wait "$w1" "$w2" 2>/dev/null || true

# --- no lasting change ------------------------------------------------------
Q=$T/quiet
mkdir -p "$Q"
python3 - "$Q" <<'EOF'
import os, sqlite3, sys
d = sys.argv[1]
def mk(name, mode, rows=50):
    c = sqlite3.connect(os.path.join(d, name), isolation_level=None)
    c.execute("PRAGMA journal_mode=" + mode)
    c.execute("CREATE TABLE t(x)")
    c.executemany("INSERT INTO t VALUES (?)", [(i,) for i in range(rows)])
    return c
mk("wal-clean.db", "WAL").close()          # checkpointed, no -wal left
mk("rollback.db", "DELETE").close()
mk("no-extension", "DELETE").close()
c = mk("wal-crashed.db", "WAL")            # a -wal and -shm nobody has open
c.execute("PRAGMA wal_autocheckpoint=0")
c.executemany("INSERT INTO t VALUES (?)", [(i,) for i in range(1000)])
os.dup2(os.open("/dev/null", os.O_WRONLY), 2)
os._exit(0)                                # no close: no checkpoint
EOF
[ -e "$Q/wal-crashed.db-wal" ] || fail "set-up: no leftover -wal"
state() { (cd "$Q" && find . -printf '%P %y %s %m %T@ %C@ %i\n' | sort && find . -type f -print0 | sort -z | xargs -0 md5sum); }
state >"$T/before"
sleep 0.05
( cd "$Q" && expect_status 0 "$CKPTFS" snap -t quiet )
[ "$(grep -c '^  sqlite ' "$T/stdout")" = 4 ] || { cat "$T/stdout"; fail "not all four databases were captured"; }
# Unchanged databases are not copied again once their times are safely
# older than the last snapshot — also one with a -wal beside it, whose
# -wal is as the last capture recorded it (t_db_sqlite_reuse has the
# commits that must not be missed).
sleep 2.1
( cd "$Q" && expect_status 0 "$CKPTFS" snap -q && expect_status 0 "$CKPTFS" snap )
[ "$(grep -c 'ok (unchanged since the last snapshot' "$T/stdout")" = 4 ] ||
	{ cat "$T/stdout"; fail "unchanged databases were copied again"; }
state >"$T/after"
diff "$T/before" "$T/after" >&2 || fail "snap changed the project"
( cd "$Q" && ck restore . --from quiet --to "$T/qr" >/dev/null )
ls "$T/qr" | grep -qE -- '-(wal|shm|journal)$' && fail "the crashed database's -wal/-shm were stored"
python3 - "$T/qr" <<'EOF' || fail "restored copies are not the databases"
import sqlite3, sys
d = sys.argv[1]
want = {"wal-clean.db": 50, "rollback.db": 50, "no-extension": 50, "wal-crashed.db": 1050}
for f, n in want.items():
    c = sqlite3.connect("file:%s/%s?mode=ro" % (d, f), uri=True)
    assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok", f
    got = c.execute("SELECT count(*) FROM t").fetchone()[0]
    assert got == n, (f, got)
EOF

# --- locked for too long: stored raw, flagged, partial ---------------------
python3 - "$P/data/locked.db" <<'EOF' &
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("CREATE TABLE t(x)")
c.execute("INSERT INTO t VALUES (1)")
c.execute("BEGIN EXCLUSIVE")
c.execute("INSERT INTO t VALUES (2)")
open(sys.argv[1] + ".ready", "w").close()
time.sleep(60)
EOF
track_pid $!
wait_for 60 "the lock holder did not start" test -e "$P/data/locked.db.ready"
rm -f "$P/data/locked.db.ready"
expect_status 3 "$CKPTFS" snap -t locked
grep -q "data/locked.db: SQLite database stored as it is, possibly inconsistent" "$T/stderr" ||
	{ cat "$T/stderr"; fail "no warning for the raw copy"; }
expect_status 0 "$CKPTFS" show locked
grep -q "data/locked.db  STORED RAW, possibly inconsistent" "$T/stdout" || { cat "$T/stdout"; fail "show"; }
grep -q "^status     partial" "$T/stdout" || fail "not partial"
sed -n '/^warnings$/,$p' "$T/stdout" | grep -q "^  data/locked.db: SQLite database stored as it is, possibly inconsistent" ||
	{ cat "$T/stdout"; fail "show: the raw copy is not in the warnings section"; }
! grep -Eq '^notes|[{}]|"databases"' "$T/stdout" || { cat "$T/stdout"; fail "show prints the raw notes JSON"; }
# The raw copy keeps its hot journal: restored together they read as the
# last committed state.
ck restore data --from locked --to "$T/lr" >/dev/null
[ -e "$T/lr/locked.db-journal" ] || fail "the raw copy's journal was left out"
[ "$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('SELECT count(*) FROM t').fetchone()[0])" "$T/lr/locked.db")" = 1 ] ||
	fail "the raw copy with its journal does not read as the committed state"

# --- a damaged database: the drill fails, snap says so and exits 3 ---------
B=$T/bad
mkdir -p "$B"
python3 - "$B/shop.db" <<'EOF'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.executescript("""CREATE TABLE t(a, b); CREATE INDEX i ON t(a);
    WITH RECURSIVE s(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM s WHERE k < 300)
    INSERT INTO t SELECT k, 1000 - k FROM s;
    PRAGMA writable_schema = ON;
    UPDATE sqlite_schema SET sql = 'CREATE INDEX i ON t(b)' WHERE name = 'i';""")
EOF
( cd "$B" && expect_status 3 "$CKPTFS" snap -t bad )
grep -q "^ckptfs: database shop.db: drill failed (integrity_check): " "$T/stderr" ||
	{ cat "$T/stderr"; fail "a failed drill is not reported by name"; }
grep -q "shop.db  FAILED integrity_check: " "$T/stdout" || { cat "$T/stdout"; fail "snap does not print the failed drill"; }
echo ok
