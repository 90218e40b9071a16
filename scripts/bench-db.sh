#!/bin/bash
# bench-db.sh — what a snapshot of a changed SQLite database costs.
#
# Builds a ~200 MiB SQLite database (BENCH_DB_MIB to change it) in a fresh
# project and repository, snaps it, changes 1% of its rows and snaps again,
# twice: once with the changed rows together (a batch of recent rows, the
# common case) and once scattered at random over the whole table (the worst
# case for any chunk-level dedup: most pages hold a changed row).  For each
# it prints the repository growth in bytes and as a fraction of the
# database's size.  Then it measures how long a writer committing small
# transactions in a loop is held up while snap captures the database (WAL
# and rollback-journal modes): the longest single commit, against the same
# writer with no snap running.
#
#   CKPTFS=./ckptfs scripts/bench-db.sh
set -euo pipefail
: "${CKPTFS:?set CKPTFS to the ckptfs binary}"
command -v python3 >/dev/null || { echo "bench-db: python3 is needed" >&2; exit 1; }
mib=${BENCH_DB_MIB:-200}
T=$(mktemp -d "${TMPDIR:-/tmp}/ckptfs-bench-db.XXXXXX")
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	rm -rf "$T"
}
trap cleanup EXIT
export CKPTFS_REPO=$T/repo
P=$T/proj
mkdir -p "$P"
db=$P/app.db

repo_bytes() { du -sb "$CKPTFS_REPO" | cut -f1; }
now() { date +%s.%N; }
secs() { python3 -c "print('%.2f' % ($2 - $1))"; }

echo "== SQLite: ${mib} MiB database, 1% of rows changed between snapshots"
python3 - "$db" "$mib" <<'EOF'
import sqlite3, sys
db, mib = sys.argv[1], int(sys.argv[2])
c = sqlite3.connect(db, isolation_level=None)
c.execute("PRAGMA journal_mode=WAL")
c.execute("PRAGMA synchronous=OFF")
c.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, owner INT, amount INT, note TEXT)")
# ~112 bytes a row on disk: rows of mixed text and numbers.
rows = mib * 1024 * 1024 // 112
c.execute("BEGIN")
c.execute("""WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ?)
             INSERT INTO t SELECT i, abs(random()) % 10000, abs(random()) % 100000,
             'order ' || i || ' ' || hex(randomblob(40)) FROM s""", (rows,))
c.execute("COMMIT")
c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
EOF
size=$(stat -c %s "$db")
rows=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('SELECT count(*) FROM t').fetchone()[0])" "$db")
printf 'database: %s bytes (%.1f MiB), %s rows\n' "$size" "$(python3 -c "print($size/1048576)")" "$rows"

t0=$(now)
"$CKPTFS" snap -q "$P"
t1=$(now)
r0=$(repo_bytes)
printf 'first snapshot: %s s, repository %s bytes (%.3f of the database)\n' "$(secs "$t0" "$t1")" \
	"$r0" "$(python3 -c "print($r0/$size)")"

change() { # change KIND: update 1% of the rows, together or scattered
	python3 - "$db" "$1" "$rows" <<'EOF'
import random, sqlite3, sys
db, kind, rows = sys.argv[1], sys.argv[2], int(sys.argv[3])
n = rows // 100
c = sqlite3.connect(db, isolation_level=None)
c.execute("BEGIN")
if kind == "together":
    start = rows - n - rows // 10   # a batch of recent rows
    ids = range(start, start + n)
else:
    ids = random.Random(7).sample(range(1, rows + 1), n)
c.executemany("UPDATE t SET amount = amount + 1, note = note || '!' WHERE id = ?", [(i,) for i in ids])
c.execute("COMMIT")
c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
EOF
}

for kind in together scattered; do
	change "$kind"
	before=$(repo_bytes)
	t0=$(now)
	"$CKPTFS" snap -q "$P"
	t1=$(now)
	after=$(repo_bytes)
	grow=$((after - before))
	printf '1%% of rows changed (%s): snapshot %s s, repository +%s bytes = %.4f of the database size\n' \
		"$kind" "$(secs "$t0" "$t1")" "$grow" "$(python3 -c "print($grow/$size)")"
done

# capture.py SHOW_JSON: how the snapshot captured the database.
cat >"$T/capture.py" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
notes = s.get("notes") or s.get("snapshot", {}).get("notes") or {}
for d in notes.get("databases", []):
    if d.get("inconsistent"):
        print("not captured consistently, stored raw: " + d.get("result", "?"))
    elif d.get("method") == "immutable":
        print("method immutable (no live writer: copied without any lock), %s" % d.get("check"))
    else:
        print("method %s, %s, longest backup step %.1f ms, %d restarts" % (d.get("method"),
              d.get("check"), d.get("max_step_us", 0) / 1000, d.get("restarts", 0)))
EOF
(cd "$P" && "$CKPTFS" show --json) >"$T/show.json"
echo "last snapshot: $(python3 "$T/capture.py" "$T/show.json")"

# --- writers held up by a capture ------------------------------------------
# writer.py DB SECONDS OUT: commit one small transaction every 2 ms for
# SECONDS (synchronous=OFF: the time of a commit is then its waits for
# locks, not the disk); write the longest commit (ms) and the count to OUT.
cat >"$T/writer.py" <<'EOF'
import sqlite3, sys, time
db, secs, out = sys.argv[1], float(sys.argv[2]), sys.argv[3]
c = sqlite3.connect(db, timeout=30, isolation_level=None)
c.execute("PRAGMA synchronous=OFF")
worst, n, end = 0.0, 0, time.monotonic() + secs
while time.monotonic() < end:
    t = time.monotonic()
    c.execute("BEGIN IMMEDIATE")
    c.execute("UPDATE t SET amount = amount + 1 WHERE id = ?", (1 + n % 1000,))
    c.execute("COMMIT")
    worst = max(worst, time.monotonic() - t)
    n += 1
    time.sleep(0.002)
open(out, "w").write("%.1f %d\n" % (worst * 1000, n))
EOF
for mode in WAL DELETE; do
	python3 -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute('PRAGMA journal_mode=$mode').fetchone(); c.close()" "$db"
	python3 "$T/writer.py" "$db" 2 "$T/alone"
	python3 "$T/writer.py" "$db" 6 "$T/during" &
	pids+=($!)
	sleep 1
	t0=$(now)
	"$CKPTFS" snap -q "$P" 2>/dev/null || true
	t1=$(now)
	wait "${pids[-1]}"
	read -r alone nalone <"$T/alone"
	read -r during nduring <"$T/during"
	(cd "$P" && "$CKPTFS" show --json) >"$T/show.json"
	printf '%s mode, a writer committing every 2 ms: snap %s s; %s; its longest commit %s ms (%s ms with no snap running)\n' \
		"$mode" "$(secs "$t0" "$t1")" "$(python3 "$T/capture.py" "$T/show.json")" "$during" "$alone"
done
