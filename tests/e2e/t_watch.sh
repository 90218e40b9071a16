#!/bin/bash
# ckptfs watch: a burst of edits becomes one snapshot; continuous writes
# still give one within --max-wait; new folders are watched; excluded paths
# and quiet trees give none; watches running out (a real limit in a user
# namespace, else the test hook) fall back to scanning; a second watch on
# the project refuses; a watched folder that disappears ends it; SIGTERM
# stops it cleanly; its own restores are not changes, however late it reads
# their events.
. "$(dirname "$0")/lib.sh"

P=$T/proj
mkdir -p "$P/src" "$P/node_modules"
printf 'v1\n' >"$P/src/a.txt"
(cd "$P" && ck snap -q)

# wait_snaps N LOG WHAT: wait until there are more than N watch snapshots
# (generously: a pass costs no more, and a loaded machine is slow).
wait_snaps() {
	local end=$((SECONDS + 60))
	until [ "$(nwatch)" -gt "$1" ]; do
		[ $SECONDS -lt $end ] || { cat "$2" >&2; fail "$3 (waited 60 s)"; }
		sleep 0.1
	done
}
nwatch() { "$CKPTFS" log --project proj --json | grep -c '"tag": "watch"' || true; }
# start_watch LOG ARGS...: a watch in the background; $wpid is its pid.
start_watch() {
	local log=$1; shift
	"$@" >"$log" 2>&1 &
	wpid=$!
	track_pid $wpid
	local end=$((SECONDS + 60))
	until grep -q '^watching ' "$log" 2>/dev/null; do
		[ $SECONDS -lt $end ] || { cat "$log" >&2; fail "watch did not start"; }
		sleep 0.05
	done
}
stop_watch() {
	kill -TERM "$wpid"
	local rc=0
	wait "$wpid" || rc=$?
	[ "$rc" = 0 ] || fail "watch exited $rc on SIGTERM: $(cat "$1")"
}

# --- bad input -------------------------------------------------------------
expect_status 2 "$CKPTFS" watch --quiet soon
grep -q '^ckptfs: watch: --quiet soon: not a number of seconds' "$T/stderr" || fail "bad --quiet: $(cat "$T/stderr")"
expect_status 2 "$CKPTFS" watch --max-wait 0
expect_status 2 "$CKPTFS" watch --all "$P"
expect_status 1 "$CKPTFS" watch "$T/nowhere"
grep -q '^ckptfs: .*nowhere' "$T/stderr" || fail "no line for a missing DIR"

cd "$P"
start_watch "$T/w1.log" "$CKPTFS" watch --quiet 1 --max-wait 30
grep -q "^watching $P (inotify; quiet 1 s, at most 30 s)$" "$T/w1.log" || fail "start line: $(cat "$T/w1.log")"

# --- a second watch on the project refuses ------------------------------------
expect_status 4 "$CKPTFS" watch --quiet 1
grep -q "^ckptfs: watch: $P: already watched by another ckptfs watch (pid $wpid)$" "$T/stderr" ||
	fail "second watch: $(cat "$T/stderr")"

# --- a burst becomes one snapshot --------------------------------------------
for i in $(seq 20); do printf '%s\n' "$i" >>"$P/src/a.txt"; printf 'x\n' >"$P/src/f$i"; done
wait_snaps 0 "$T/w1.log" "no snapshot after a burst"
sleep 2.5
[ "$(nwatch)" = 1 ] || fail "a burst gave $(nwatch) snapshots"
ck restore src/f20 --from watch --to "$T/out/"
[ -f "$T/out/f20" ] || fail "the snapshot lacks the burst's last file"

# --- nothing changes: no snapshot; excluded paths are not changes -------------
printf 'junk\n' >"$P/node_modules/x.js"
mkdir -p "$P/node_modules/pkg" && printf 'junk\n' >"$P/node_modules/pkg/y.js"
sleep 3
[ "$(nwatch)" = 1 ] || fail "snapshots while only excluded paths changed"

# --- new folders are watched --------------------------------------------------
mkdir -p "$P/src/new/deeper"
sleep 0.3
printf 'deep\n' >"$P/src/new/deeper/d.txt"
wait_snaps 1 "$T/w1.log" "no snapshot after a new folder"
sleep 1.5
n=$(nwatch)
printf 'deeper still\n' >"$P/src/new/deeper/d.txt"
wait_snaps "$n" "$T/w1.log" "a change in a new folder gave no snapshot"
ck restore src/new/deeper/d.txt --from watch --to "$T/out2/"
[ "$(cat "$T/out2/d.txt")" = "deeper still" ] || fail "new folder's file not in the snapshot"

# --- its own restores are not changes ------------------------------------------
sleep 1.5
n=$(nwatch)
oldest=$("$CKPTFS" log --project proj --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[-1]["name"])')
ck restore src/a.txt --from "$oldest" >/dev/null
[ "$(cat "$P/src/a.txt")" = v1 ] || fail "restore did not bring a.txt back"
sleep 3
[ "$(nwatch)" = "$n" ] || fail "watch took a snapshot of its own restore"
printf 'after restore\n' >>"$P/src/a.txt"
wait_snaps "$n" "$T/w1.log" "an edit after a restore gave no snapshot"

# --- ... however late the watch reads them --------------------------------------
# Stopped through the restore and for longer than the clock's grace after it,
# the watch reads the restore's events late: the marks' own events, in the same
# queue, still tell them from the edit that follows.
sleep 1.5
n=$(nwatch)
kill -STOP "$wpid"
ck restore src/a.txt --from "$oldest" >/dev/null
[ "$(cat "$P/src/a.txt")" = v1 ] || fail "second restore did not bring a.txt back"
sleep 2.5 # past RESTOREMARK_GRACE_NS (1 s)
kill -CONT "$wpid"
sleep 3
[ "$(nwatch)" = "$n" ] || fail "watch read its own restore late and took a snapshot of it"
printf 'after a late read\n' >>"$P/src/a.txt"
wait_snaps "$n" "$T/w1.log" "an edit after a late-read restore gave no snapshot"
stop_watch "$T/w1.log"

# --- continuous writes: a snapshot within --max-wait --------------------------
start_watch "$T/w2.log" "$CKPTFS" watch --quiet 2 --max-wait 3
n=$(nwatch)
# Writes every 0.2 s never leave the 2 s of quiet, so a snapshot while they
# go on is --max-wait's.  They go on until it is there (waited for, not
# "there within 6 s": a loaded machine may take longer to snapshot).
( while :; do printf 'tick\n' >>"$P/src/busy.log"; sleep 0.2; done ) &
ticker=$!
track_pid $ticker
wait_snaps "$n" "$T/w2.log" "no snapshot within --max-wait while writes kept coming"
kill $ticker
wait $ticker 2>/dev/null || true
stop_watch "$T/w2.log"

# --- watches run out: one line, then a periodic scan still snapshots ------------
if unshare -U -r true 2>/dev/null; then
	# A real limit: a user namespace's max_inotify_watches.
	start_watch "$T/w3.log" unshare -U -r sh -c \
		'echo 2 >/proc/sys/user/max_inotify_watches && exec "$0" watch --quiet 1' "$CKPTFS"
	how="user namespace limit"
else
	start_watch "$T/w3.log" env CKPTFS_WATCH_MAX_WATCHES=2 "$CKPTFS" watch --quiet 1
	how="test hook"
fi
wait_for 60 "no fallback line ($how): $(cat "$T/w3.log")" grep -q 'inotify watches ran out' "$T/w3.log"
grep -q 'sysctl fs.inotify.max_user_watches=' "$T/w3.log" || fail "the line does not say how to raise the limit"
n=$(nwatch)
sleep 1.5
printf 'scanned\n' >"$P/src/new/deeper/d.txt"
wait_snaps "$n" "$T/w3.log" "the fallback scan ($how) took no snapshot"
[ "$(grep -c 'inotify watches ran out' "$T/w3.log")" = 1 ] || fail "the limit was reported more than once"
stop_watch "$T/w3.log"
echo "fallback tested by: $how"

# --- --all: every project; one another watch holds is left to it --------------
Q=$T/other
mkdir -p "$Q" && printf 'q\n' >"$Q/f"
(cd "$Q" && ck snap -q)
start_watch "$T/w5.log" "$CKPTFS" watch "$Q" --quiet 1
qpid=$wpid
start_watch "$T/w6.log" env CKPTFS_WATCH_REFRESH=0.5 "$CKPTFS" watch --all --quiet 1
grep -q "^watching $P " "$T/w6.log" || fail "--all does not watch proj: $(cat "$T/w6.log")"
grep -q "^ckptfs: watch: $Q: already watched by another ckptfs watch (pid $qpid)$" "$T/w6.log" ||
	fail "--all did not leave other to its watch: $(cat "$T/w6.log")"
n=$(nwatch)
printf 'all\n' >"$P/src/all.txt"
wait_snaps "$n" "$T/w6.log" "watch --all took no snapshot of proj"
# A project registered after the start is watched too.
L=$T/later
mkdir -p "$L" && printf 'l\n' >"$L/f"
(cd "$L" && ck snap -q)
end=$((SECONDS + 60))
until grep -q "^watching $L " "$T/w6.log"; do
	[ $SECONDS -lt $end ] || { cat "$T/w6.log" >&2; fail "watch --all did not pick up a new project (waited 60 s)"; }
	sleep 0.1
done
printf 'l2\n' >"$L/f"
end=$((SECONDS + 60))
until "$CKPTFS" log --project later --json | grep -q '"tag": "watch"'; do
	[ $SECONDS -lt $end ] || fail "no snapshot of the project registered later"
	sleep 0.1
done
stop_watch "$T/w6.log"
wpid=$qpid
stop_watch "$T/w5.log"

# --- the watched folder disappears ---------------------------------------------
G=$T/goner
mkdir -p "$G" && printf 'g\n' >"$G/f"
(cd "$G" && ck snap -q)
# It sees the folder go (not a timeout, 124) and exits 1.
(wait_for 60 "watch of goner did not start" grep -q '^watching ' "$T/w4.log"; rm -rf "$G") &
rc=0
timeout 60 "$CKPTFS" watch "$G" --quiet 1 >"$T/w4.log" 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "watch of a vanished folder exited $rc: $(cat "$T/w4.log")"
grep -q "^ckptfs: watch: $G: the folder is gone" "$T/w4.log" || fail "no line for the vanished folder: $(cat "$T/w4.log")"
echo ok
