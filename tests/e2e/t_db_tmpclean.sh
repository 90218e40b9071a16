#!/bin/bash
# t_db_tmpclean.sh — a killed snap does not leave its plaintext database
# copies behind (issue 8, item 5).  The copies live in a private temp dir,
# ckptfs-db-<pid>-XXXXXX (0700, files 0600, a "lock" the snap holds):
#   - SIGTERM, SIGINT, SIGHUP during the capture of a large SQLite db
#     remove it at once, and the snap dies of the signal;
#   - after kill -9 it is left, and the next snap removes it (saying so),
#     as check --repair does;
#   - a dir whose process still runs is never removed: a stopped snap's own
#     dir, a dir named for a running pid, one whose lock is held (a live
#     process in another pid namespace), one of another user.
. "$(dirname "$0")/lib.sh"

command -v sqlite3 >/dev/null || skip "no sqlite3 shell"
export TMPDIR=$T/tmp
mkdir -p "$TMPDIR"
P=$T/proj
mkdir -p "$P"
# ~128 MiB, so the capture takes a while; each round changes a row so the
# capture is fresh (an unchanged database is not copied again).
sqlite3 "$P/big.db" "PRAGMA page_size=65536; CREATE TABLE t(x);
	WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i<2000)
	INSERT INTO t SELECT randomblob(65536) FROM c;"
ck snap -q "$P"
[ -z "$(ls -A "$TMPDIR")" ] || fail "a finished snap left $(ls -A "$TMPDIR")"

leftovers() { find "$TMPDIR" -mindepth 1 -maxdepth 1 -name 'ckptfs-db-*' | sort; }
copy_there() { compgen -G "$TMPDIR/ckptfs-db-*/copy-*.db" >/dev/null && [ -s "$(compgen -G "$TMPDIR/ckptfs-db-*/copy-*.db" | head -n1)" ]; }

# start_snap [WRAPPER...]: start a snap of a changed big.db in the
# background (SNAP_PID) and wait until its copy is being written; 1 if the
# snap ended first (the caller retries).
start_snap() {
	sqlite3 "$P/big.db" "UPDATE t SET x = randomblob(65536) WHERE rowid = $((RANDOM % 2000 + 1))"
	"$@" "$CKPTFS" snap -q "$P" >/dev/null 2>"$T/snap.err" &
	SNAP_PID=$!
	track_pid "$SNAP_PID"
	local end=$((SECONDS + 60))
	until copy_there; do
		kill -0 "$SNAP_PID" 2>/dev/null || { wait "$SNAP_PID" || true; return 1; }
		[ "$SECONDS" -lt "$end" ] || fail "no database copy appeared in $TMPDIR"
		sleep 0.005
	done
}

# catch [WRAPPER...]: start_snap until a capture is caught in progress.
catch() {
	for _ in 1 2 3 4 5 6 7 8; do
		start_snap "$@" && return 0
	done
	fail "8 snaps finished before their capture could be caught"
}

# kill -9: left, owner-only; the next snap removes it.
catch
kill -9 "$SNAP_PID"
wait "$SNAP_PID" 2>/dev/null || true
d=$(leftovers)
[ -n "$d" ] || fail "kill -9 left no temp dir (nothing to test)"
[ "$(stat -c %a "$d")" = 700 ] || fail "temp dir mode $(stat -c %a "$d"), want 700"
for f in "$d"/*; do
	[ "$(stat -c %a "$f")" = 600 ] || fail "$f: mode $(stat -c %a "$f"), want 600"
done
[[ ${d##*/} =~ ^ckptfs-db-$SNAP_PID-[A-Za-z0-9]{6}$ ]] || fail "temp dir ${d##*/} does not carry the pid $SNAP_PID"
echo "kill -9: left $(du -sh "$d" | cut -f1) in ${d##*/} (0700, files 0600)"
ck snap "$P" >"$T/out"
[ -z "$(leftovers)" ] || fail "the next snap did not remove $(leftovers)"
grep -q "^removed 1 database temp dir left by killed snaps in $TMPDIR" "$T/out" ||
	{ cat "$T/out"; fail "the next snap does not say it removed the leftover"; }
echo "next snap: $(grep '^removed' "$T/out")"

# ... and check --repair does the same.
catch
kill -9 "$SNAP_PID"
wait "$SNAP_PID" 2>/dev/null || true
[ -n "$(leftovers)" ] || fail "kill -9 left no temp dir"
ck check --repair >"$T/out"
[ -z "$(leftovers)" ] || fail "check --repair did not remove $(leftovers)"
grep -q "^removed 1 database temp dir" "$T/out" || { cat "$T/out"; fail "check --repair does not say so"; }
echo "check --repair: removed the leftover"

# TERM, INT, HUP: removed at once, the snap dies of the signal.
# (env --default-signal: a background job starts with SIGINT ignored.)
for sig in TERM INT HUP; do
	catch env --default-signal="$sig"
	kill -"$sig" "$SNAP_PID"
	rc=0
	wait "$SNAP_PID" || rc=$?
	[ "$rc" = $((128 + $(kill -l "$sig"))) ] || { cat "$T/snap.err"; fail "snap after SIG$sig exited $rc"; }
	[ -z "$(leftovers)" ] || fail "SIG$sig left $(leftovers)"
	echo "SIG$sig: temp dir removed at once (exit $rc)"
done
ck check >/dev/null

# Never a live process's dir.  A stopped snap: its dir stays through
# another snap (another repository: this one is locked) and its repair.
catch
kill -STOP "$SNAP_PID"
live=$(leftovers)
mkdir -p "$T/other"
echo a >"$T/other/a"
CKPTFS_REPO=$T/repo2 ck snap -q "$T/other"
CKPTFS_REPO=$T/repo2 ck check --repair -q
[ "$(leftovers)" = "$live" ] || fail "a live (stopped) snap's temp dir was removed"
kill -CONT "$SNAP_PID"
wait "$SNAP_PID" || fail "the stopped snap failed after SIGCONT: $(cat "$T/snap.err")"
[ -z "$(leftovers)" ] || fail "the snap did not remove its own dir: $(leftovers)"
echo "a running snap's dir: kept by others, removed by itself"

# Planted look-alikes: a running pid (this shell), a dead pid whose lock
# is held (as by a process in another pid namespace), another user's.
mk_fake() { # mk_fake PID: a dir as a snap would make, with a copy in it
	local d="$TMPDIR/ckptfs-db-$1-Fake${RANDOM:0:1}x"
	mkdir -m 700 "$d" && : >"$d/lock" && echo secret >"$d/copy-1.db"
	echo "$d"
}
# Dead for certain: above pid_max, so no process can take the pid while the
# test runs (999999 and below could be handed out meanwhile where pid_max
# is 4194304, and that dir would be kept).
dead=$(($(cat /proc/sys/kernel/pid_max 2>/dev/null || echo 4194304) + 1000))
while kill -0 "$dead" 2>/dev/null; do dead=$((dead + 1000)); done
a=$(mk_fake $$)
b=$(mk_fake "$dead")
# This shell holds it (no child left behind to hold it).
exec 9>"$b/lock"
flock -x 9
c=""
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
	c=$(mk_fake "$((dead - 1))")
	chown -R nobody "$c"
fi
e=$(mk_fake "$((dead - 2))") # dead, lock free: removed
ck snap "$P" >"$T/out"
[ -d "$a" ] || fail "the dir of a running pid was removed"
[ -d "$b" ] || fail "a dir whose lock is held was removed"
[ -z "$c" ] || [ -d "$c" ] || fail "another user's dir was removed"
[ ! -e "$e" ] || fail "a dead process's dir was kept"
echo "look-alikes: running pid, held lock${c:+, other user} kept; dead one removed"
exec 9>&-
rm -rf "$a" "$b" "$c"
