#!/bin/bash
# A WAL database with its -wal present (an app holding it open) is not
# copied again when nothing can have committed: the main file and the -wal
# keep the inode, size, mtime and ctime recorded when the last capture
# began, and both were quiet for the racy window before it.  Every way a
# commit shows is caught:
#   - a commit (the -wal grows or is rewritten): captured again, and the
#     restored copy holds the new row;
#   - a commit made to look unchanged (the -wal's mtime set back with
#     touch: the ctime still moves): captured again;
#   - a commit just before a snapshot (within the racy window): the next
#     snapshot does not trust the stamp and captures again;
#   - the -wal checkpointed away (app closed): captured again.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || skip "python3 is needed for the app holding the database"
command -v sqlite3 >/dev/null || skip "the sqlite3 shell is needed to read restored copies"

P=$T/proj
mkdir -p "$P/data"
db=$P/data/app.db

# app.py: opens the database in WAL mode, keeps it open (the -wal stays),
# commits one row whenever $T/go-N appears (then writes $T/done-N).
cat >"$T/app.py" <<'EOF'
import os, sqlite3, sys, time
db, t = sys.argv[1], sys.argv[2]
c = sqlite3.connect(db, isolation_level=None)
c.execute("PRAGMA journal_mode=WAL")
c.execute("PRAGMA wal_autocheckpoint=0")
c.execute("CREATE TABLE IF NOT EXISTS t(id INTEGER PRIMARY KEY, v TEXT)")
c.execute("INSERT INTO t(v) VALUES ('first')")
open(t + "/ready", "w").close()
n = 0
while True:
    if os.path.exists("%s/go-%d" % (t, n)):
        c.execute("INSERT INTO t(v) VALUES (?)", ("row %d" % n,))
        open("%s/done-%d" % (t, n), "w").close()
        n += 1
    if os.path.exists(t + "/quit"):
        c.close()
        open(t + "/closed", "w").close()
        break
    time.sleep(0.02)
EOF
python3 "$T/app.py" "$db" "$T" &
track_pid $!
wait_for 60 "the app to open the database" test -e "$T/ready"
[ -e "$db-wal" ] || fail "the app's database has no -wal"

method() { # the capture method of data/app.db in the latest snapshot
	"$CKPTFS" show --project proj --json | python3 -c '
import json, sys
for d in json.load(sys.stdin)["snapshot"]["notes"]["databases"]:
    if d["name"] == "data/app.db": print(d["method"])'
}
rows_in() { # rows of t in data/app.db of the latest snapshot
	rm -rf "$T/r"
	"$CKPTFS" restore data/app.db --project proj --to "$T/r/" >/dev/null || fail "restore exited $?"
	sqlite3 "$T/r/app.db" 'select count(*) from t'
}
commit() { touch "$T/go-$1"; wait_for 60 "commit $1" test -e "$T/done-$1"; }
quiet() { sleep 2.3; } # past the racy window (REUSE_RACY_NS, 2 s)

quiet
ck snap -q "$P"
[ "$(method)" != unchanged ] || fail "the first snapshot cannot reuse anything"
quiet
ck snap -q "$P"
[ "$(method)" = unchanged ] || fail "nothing committed, the -wal is as it was: want reuse, got $(method)"
ck snap -q "$P"
[ "$(method)" = unchanged ] || fail "a reused capture must be reusable again (its -wal stamp kept)"
[ "$(rows_in)" = 1 ] || fail "the reused capture lost the committed row"

# A commit: the -wal changes.
quiet
commit 0
quiet
ck snap -q "$P"
[ "$(method)" != unchanged ] || fail "a commit went unnoticed"
[ "$(rows_in)" = 2 ] || fail "the new capture does not hold the new row"

# A commit made to look unchanged: same size is not needed for this, the
# mtime is set back to what it was; only the ctime tells.
quiet
ck snap -q "$P"
[ "$(method)" = unchanged ] || fail "want reuse before the disguised commit"
old=$(stat -c %y "$db-wal")
commit 1
touch -d "$old" "$db-wal"
[ "$(stat -c %y "$db-wal")" = "$old" ] || fail "could not set the -wal's mtime back"
quiet
ck snap -q "$P"
[ "$(method)" != unchanged ] || fail "a commit whose -wal mtime was set back went unnoticed (ctime moved)"
[ "$(rows_in)" = 3 ] || fail "the new capture does not hold the disguised commit's row"

# A commit right before a snapshot: that snapshot's stamp is racy, so the
# next one captures again even though nothing changed since.  "Right
# before" is checked, not assumed: when the snapshot began 2 s or more
# after the commit (a slow machine), its stamp is rightly trusted, and the
# commit and snapshot are made again.
racy_snap() { # whether the latest snapshot began within 2 s of the database's last change
	"$CKPTFS" show --project proj --json | python3 -c '
import json, os, sys
start = json.load(sys.stdin)["snapshot"]["time_ns"]
changed = max(max(s.st_mtime_ns, s.st_ctime_ns) for s in map(os.stat, sys.argv[1:]))
sys.exit(0 if changed > start - 2 * 10**9 else 1)' "$db" "$db-wal"
}
rows=3 k=2
while :; do
	commit $k
	rows=$((rows + 1))
	ck snap -q "$P"
	racy_snap && break
	[ $k -lt 6 ] || fail "5 snapshots began 2 s or more after their commit"
	k=$((k + 1))
done
ck snap -q "$P"
[ "$(method)" != unchanged ] || fail "a stamp taken within the racy window was trusted"
[ "$(rows_in)" = $rows ] || fail "the capture does not hold the last row"

# The app closes: SQLite checkpoints and deletes the -wal.
touch "$T/quit"
wait_for 60 "the app to close" test -e "$T/closed"
[ -e "$db-wal" ] && fail "the -wal is still there after the app closed"
quiet
ck snap -q "$P"
[ "$(method)" != unchanged ] || fail "the -wal disappeared (checkpointed): want a new capture"
[ "$(rows_in)" = $rows ] || fail "rows lost at the checkpoint"
quiet
ck snap -q "$P"
[ "$(method)" = unchanged ] || fail "no -wal, nothing changed: want reuse, got $(method)"
echo ok
