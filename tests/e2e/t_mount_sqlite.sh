#!/bin/bash
# A WAL-mode SQLite database opens in place in the read-only mount: the
# sqlite3 shell, Python's sqlite3 and a ?mode=ro URI query it (captured
# while a writer was running, so its WAL held frames), two readers at once
# too, and as a version in @versions.  SQLite finds an empty <db>-wal and
# <db>-shm beside it (fs/sidecar.h) that readdir does not list: cp -a and
# tar of the snapshot are exactly what restore writes.  No such file for a
# rollback-mode database, a non-database, or a name the snapshot really
# holds (a raw copy's own -wal is served as stored, an empty -shm beside).
. "$(dirname "$0")/lib.sh"
command -v sqlite3 >/dev/null || skip "no sqlite3 shell"
command -v python3 >/dev/null || skip "no python3"
[ -e /dev/fuse ] || skip "no /dev/fuse"

P=$T/proj
mkdir -p "$P/data"
# A WAL database of a few MiB (several chunks), with a writer that keeps
# frames in its -wal (no checkpoints) while snap captures it.
cat >"$T/writer.py" <<'EOF'
import os, sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("PRAGMA journal_mode=WAL")
c.execute("PRAGMA wal_autocheckpoint=0")
c.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, b BLOB)")
c.execute("BEGIN")
c.executemany("INSERT INTO t(b) VALUES (?)", [(os.urandom(1000),) for _ in range(3000)])
c.execute("COMMIT")
c.execute("INSERT INTO t(b) VALUES (x'00')")  # committed in the -wal only
open(sys.argv[1] + ".ready", "w").close()
time.sleep(600)
EOF
python3 "$T/writer.py" "$P/data/app.db" &
track_pid $!
wait_for 60 "the writer" test -e "$P/data/app.db.ready"
rm "$P/data/app.db.ready"
[ -s "$P/data/app.db-wal" ] || fail "the writer left no frames in its -wal"
sqlite3 "$P/data/old.db" 'PRAGMA journal_mode=DELETE; CREATE TABLE u(x); INSERT INTO u VALUES (7);' >/dev/null
printf 'plain\n' >"$P/data/notes"
printf 'real\n' >"$P/data/notes-wal"
ck snap -q "$P"

M=$T/mnt
mount_ckpt "$M"
S=$M/proj/latest
[ "$(head -c 16 "$S/data/app.db" | tr -d '\0')" = "SQLite format 3" ] || fail "app.db is not SQLite"
[ "$(od -An -tu1 -j18 -N2 "$S/data/app.db" | tr -s ' ')" = " 2 2" ] || fail "the copy is not in WAL mode (this test needs one)"

# --- queries in place ---------------------------------------------------------
want=3001
[ "$(sqlite3 "$S/data/app.db" 'SELECT count(*) FROM t')" = $want ] || fail "sqlite3 shell"
[ "$(sqlite3 "$S/data/app.db" 'PRAGMA quick_check')" = ok ] || fail "sqlite3: quick_check"
[ "$(sqlite3 -readonly "$S/data/app.db" 'SELECT count(*) FROM t')" = $want ] || fail "sqlite3 -readonly"
py() { python3 -c "import sqlite3, sys; c = sqlite3.connect(sys.argv[1], uri=sys.argv[1].startswith('file:')); print(c.execute('SELECT count(*) FROM t').fetchone()[0])" "$1"; }
[ "$(py "$S/data/app.db")" = $want ] || fail "python sqlite3"
[ "$(py "file:$S/data/app.db?mode=ro")" = $want ] || fail "python sqlite3, ?mode=ro"
[ "$(sqlite3 "$S/data/old.db" 'SELECT x FROM u')" = 7 ] || fail "a rollback-mode database"
# Two readers at once: one holds a read transaction until the other has
# read (told by a file; was: held for 3 s, which a slow second reader could
# outlast, no longer testing two at once).
python3 - "$S/data/app.db" "$T/held" "$T/release" <<'EOF' &
import os, sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN")
c.execute("SELECT count(*) FROM t").fetchone()
open(sys.argv[2], "w").close()
end = time.monotonic() + 120
while not os.path.exists(sys.argv[3]) and time.monotonic() < end:
    time.sleep(0.02)
c.execute("SELECT count(*) FROM t").fetchone()
c.execute("COMMIT")
sys.exit(0 if os.path.exists(sys.argv[3]) else 1)
EOF
reader=$!
track_pid $reader
wait_for 60 "the first reader" test -e "$T/held"
[ "$(sqlite3 "$S/data/app.db" 'SELECT count(*) FROM t')" = $want ] || fail "a second reader"
: >"$T/release"
wait $reader || fail "the first reader failed"
# Through a snapshot's own name as well as latest.
snapname=$(readlink "$S")
[ "$(sqlite3 "$M/proj/$snapname/data/app.db" 'SELECT count(*) FROM t')" = $want ] || fail "by snapshot name"

# And as a version in @versions (named by its snapshot).
V=$M/proj/@versions/data/app.db
[ "$(sqlite3 "$V/$snapname" 'SELECT count(*) FROM t')" = $want ] || fail "@versions"
[ "$(ls -A "$V")" = "$snapname" ] || fail "@versions lists: $(ls -A "$V")"
[ ! -e "$M/proj/@versions/data/old.db/$snapname-wal" ] || fail "@versions: a rollback database's -wal exists"

# --- the sidecars: found by name, empty, with the database's mode; never listed --
for f in app.db-wal app.db-shm; do
	[ -f "$S/data/$f" ] || fail "$f: not found"
	[ "$(stat -c '%s %a %U' "$S/data/$f")" = "0 $(stat -c '%a %U' "$S/data/app.db")" ] ||
		fail "$f: $(stat -c '%s %a %U' "$S/data/$f")"
	[ -z "$(cat "$S/data/$f")" ] || fail "$f: not empty"
done
ls -a "$S/data" | grep -E -- '-(wal|shm)$' | grep -vx notes-wal && fail "readdir lists a sidecar"
for f in old.db-wal old.db-shm notes-shm nope-wal app.db-journal data-wal; do
	[ ! -e "$S/data/$f" ] || fail "$f exists"
done
[ ! -e "$S/data-wal" ] || fail "a folder's -wal exists"
[ "$(cat "$S/data/notes-wal")" = real ] || fail "a real notes-wal is not served as itself"
printf x >"$S/data/app.db-wal" 2>/dev/null && fail "a sidecar is writable"

# --- cp -a and tar of the snapshot are what restore writes ----------------------
cp -a "$M/proj/$snapname" "$T/copy"
ck restore . --project proj --from "$snapname" --to "$T/restored" >/dev/null
same_tree "$T/copy" "$T/restored"
cmp "$T/copy/data/app.db" "$T/restored/data/app.db" || fail "the database differs from restore's"
ls "$T/copy/data" | grep -E -- '-(wal|shm)$' | grep -vx notes-wal && fail "cp -a copied a sidecar"
tar -C "$M/proj/$snapname" -cf - . | tar -tf - | grep -E -- '-(wal|shm)$' | grep -v '/notes-wal$' &&
	fail "tar holds a sidecar"
# The copy opens too (its own, writable folder).
[ "$(sqlite3 "$T/copy/data/app.db" 'SELECT count(*) FROM t')" = $want ] || fail "the copy"

# --- a database that could not be captured is stored raw with its real -wal ----
# (locking_mode=EXCLUSIVE keeps every reader out past the 5 s busy limit; its
# rows are in the -wal only).  SQLite reads that -wal beside the empty -shm.
cat >"$T/holder.py" <<'EOF'
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("PRAGMA journal_mode=WAL")
c.execute("PRAGMA locking_mode=EXCLUSIVE")
c.execute("PRAGMA wal_autocheckpoint=0")
c.execute("CREATE TABLE t(x)")
c.execute("INSERT INTO t VALUES (1), (2), (3)")
open(sys.argv[1] + ".ready", "w").close()
time.sleep(600)
EOF
python3 "$T/holder.py" "$P/data/locked.db" &
holder=$!
track_pid $holder
wait_for 60 "the lock holder" test -e "$P/data/locked.db.ready"
rm "$P/data/locked.db.ready"
expect_status 3 "$CKPTFS" snap -q -t locked "$P"
kill $holder
L=$M/proj/@tags/locked/data
wait_for 60 "the locked snapshot in the mount" test -e "$L/locked.db"
[ "$(stat -c %s "$L/locked.db-wal")" -gt 0 ] || fail "the raw copy's -wal is not the stored one"
[ "$(stat -c %s "$L/locked.db-shm")" = 0 ] || fail "the raw copy has no empty -shm"
[ "$(sqlite3 "$L/locked.db" 'SELECT count(*) FROM t')" = 3 ] || fail "the raw copy with its -wal"
echo ok
