#!/bin/bash
# ckptfs schedule: the generated units pass systemd-analyze verify; with a
# real systemd user manager (started here, in a private mount namespace so
# /run and the crontab spool are our own) enable installs and starts the
# timer, the service it runs takes snap --all, status reports it, disable
# removes everything; without a manager enable says so, installs nothing
# and names the crontab line, which --cron installs (real crontab(1)).
if [ -z "${CKPTFS_SCHED_NS:-}" ] && [ "$(id -u)" = 0 ] && unshare -m true 2>/dev/null; then
	CKPTFS_SCHED_NS=1 exec unshare -m bash "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"
command -v systemctl >/dev/null && command -v systemd-analyze >/dev/null ||
	skip "no systemctl/systemd-analyze"

root=$(cd "$(dirname "$0")/../.." && pwd)
export HOME=$T/home XDG_CONFIG_HOME=$T/home/.config XDG_DATA_HOME=$T/home/.local/share
mkdir -p "$HOME" "$XDG_CONFIG_HOME" "$XDG_DATA_HOME"
# systemd-analyze verify checks Documentation=man:ckptfs(1) exists.
mkdir -p "$T/man/man1" && cp "$root/man/ckptfs.1" "$T/man/man1/"
export MANPATH=$T/man
units=$XDG_CONFIG_HOME/systemd/user

for p in one two; do
	mkdir -p "$T/$p" && printf '%s\n' "$p" >"$T/$p/f"
	(cd "$T/$p" && ck snap -q)
done

# --- bad command lines (nothing written) ------------------------------------
expect_status 2 "$CKPTFS" schedule enable --every often
grep -q '^ckptfs: schedule: --every often: not a duration' "$T/stderr" || fail "bad --every: $(cat "$T/stderr")"
expect_status 2 "$CKPTFS" schedule enable --every 7h
grep -q 'not whole minutes dividing an hour, whole hours dividing a day' "$T/stderr" || fail "7h accepted"
expect_status 2 "$CKPTFS" schedule
expect_status 2 "$CKPTFS" schedule sometimes
expect_status 2 "$CKPTFS" schedule disable --every 1h
[ ! -e "$XDG_CONFIG_HOME/systemd" ] || fail "a bad command line wrote units"

# --- no user manager: says so, installs nothing, names the crontab line ------
(
	export XDG_RUNTIME_DIR=$T/no-runtime
	unset DBUS_SESSION_BUS_ADDRESS
	expect_status 1 "$CKPTFS" schedule enable --every 30min
	grep -q '^ckptfs: schedule: no systemd user manager running .*nothing installed.*--cron.*\*/30 \* \* \* \* CKPTFS_REPO=.* snap --all -q && .* push --if-configured # ckptfs schedule$' "$T/stderr" ||
		fail "no-manager line: $(cat "$T/stderr")"
	[ ! -e "$XDG_CONFIG_HOME/systemd" ] || fail "units written without a manager"
	expect_status 1 "$CKPTFS" schedule status
	grep -q 'not enabled' "$T/stdout" || fail "status without a schedule: $(cat "$T/stdout")"
)

if [ -z "${CKPTFS_SCHED_NS:-}" ]; then
	skip "not root or no mount namespace: no private /run for a systemd --user manager (the no-manager path passed)"
fi

# --- cron, with the spool a private tmpfs ------------------------------------
if command -v crontab >/dev/null && [ -d /var/spool/cron/crontabs ]; then
	mount -t tmpfs -o mode=1730 tmpfs /var/spool/cron/crontabs
	chgrp crontab /var/spool/cron/crontabs 2>/dev/null || true
	printf '5 4 * * * echo mine\n' | crontab -
	(
		export XDG_RUNTIME_DIR=$T/no-runtime
		expect_status 0 "$CKPTFS" schedule enable --cron --every 2h
		crontab -l | grep -q "^0 \*/2 \* \* \* CKPTFS_REPO=$CKPTFS_REPO '\?$CKPTFS'\? snap --all -q && .* forget --all --policy --if-configured && .* gc --if-due && .* push --if-configured # ckptfs schedule$" ||
			fail "crontab line: $(crontab -l)"
		# What cron would run, run by sh as cron does: every step, in
		# order (gc --if-due is due on a repository never collected, and
		# records its run).
		job=$(crontab -l | grep '# ckptfs schedule$' | sed -E 's/^([^ ]+ ){5}//; s/ # ckptfs schedule$//')
		n0=$(ck log --project one --json | grep -c '"name"')
		echo by cron >"$T/one/f"
		env -u CKPTFS_REPO sh -c "$job" || fail "the crontab job failed: $job"
		[ "$(ck log --project one --json | grep -c '"name"')" -gt "$n0" ] || fail "the crontab job took no snapshot"
		[ -e "$CKPTFS_REPO/state/last-gc.json" ] || fail "the crontab job did not run gc --if-due"
		expect_status 0 "$CKPTFS" schedule enable --cron --every 1h
		[ "$(crontab -l | grep -c 'ckptfs schedule')" = 1 ] || fail "enable --cron twice: two lines"
		expect_status 0 "$CKPTFS" schedule status
		grep -q 'every 1h by cron, active' "$T/stdout" || fail "cron status: $(cat "$T/stdout")"
		expect_status 0 "$CKPTFS" schedule disable
		[ "$(crontab -l)" = '5 4 * * * echo mine' ] || fail "disable left: $(crontab -l)"
	)
	umount /var/spool/cron/crontabs
fi

# --- a real systemd user manager ---------------------------------------------
mount -t tmpfs tmpfs /run
mkdir -p /run/systemd/system # what systemd --user takes as "booted with systemd"
export XDG_RUNTIME_DIR=$T/runtime
mkdir -m 700 "$XDG_RUNTIME_DIR"
unset DBUS_SESSION_BUS_ADDRESS
/lib/systemd/systemd --user --log-target=console >"$T/manager.log" 2>&1 &
track_pid $!
at_exit "kill $! 2>/dev/null"
wait_for 60 "systemd --user did not come up: $(cat "$T/manager.log")" \
	systemctl --user show-environment >/dev/null 2>&1

before=$(cd "$HOME" && find . | sort)
expect_status 0 "$CKPTFS" schedule enable --every 15min
grep -q '^schedule: every 15min (systemd user timer ckptfs.timer; next run 20' "$T/stdout" ||
	fail "enable said: $(cat "$T/stdout")"
[ -f "$units/ckptfs.service" ] && [ -f "$units/ckptfs.timer" ] || fail "units not written"
systemd-analyze --user verify "$units/ckptfs.timer" "$units/ckptfs.service" ||
	fail "systemd-analyze verify refused the units"
grep -qx 'Persistent=true' "$units/ckptfs.timer" || fail "timer not Persistent"
grep -qx 'OnCalendar=\*-\*-\* \*:00/15:00' "$units/ckptfs.timer" || fail "OnCalendar wrong"
grep -qx 'IOSchedulingClass=idle' "$units/ckptfs.service" || fail "service not idle I/O"
[ "$(systemctl --user is-enabled ckptfs.timer)" = enabled ] || fail "timer not enabled"
[ "$(systemctl --user is-active ckptfs.timer)" = active ] || fail "timer not active"
expect_status 0 "$CKPTFS" schedule status
grep -q '^schedule: every 15min by systemd user timer ckptfs.timer, active$' "$T/stdout" ||
	fail "status: $(cat "$T/stdout")"
grep -q '^next run: 20' "$T/stdout" || fail "status has no next run"
# ckptfs status takes twice the interval as its stale threshold.
expect_status 0 "$CKPTFS" status
grep -q '^schedule: every 15min by systemd user timer, active; stale after 30min$' "$T/stdout" ||
	fail "status header: $(cat "$T/stdout")"
expect_status 1 env CKPTFS_NOW=$(($(date +%s) + 31 * 60)) "$CKPTFS" status

# The service the timer starts: snap --all of both projects, in the journal
# as plain lines, recorded for status.
n1=$("$CKPTFS" log --project one --json | grep -c '"name"')
n2=$("$CKPTFS" log --project two --json | grep -c '"name"')
printf 'changed\n' >"$T/one/f"
systemctl --user start ckptfs.service || fail "ckptfs.service failed: $(systemctl --user status ckptfs.service 2>&1)"
[ "$("$CKPTFS" log --project one --json | grep -c '"name"')" = $((n1 + 1)) ] || fail "the service took no snapshot of one"
[ "$("$CKPTFS" log --project two --json | grep -c '"name"')" = $((n2 + 1)) ] || fail "the service took no snapshot of two"
expect_status 0 "$CKPTFS" schedule status --json
python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
assert s["enabled"] and s["via"] == "systemd" and s["every_s"] == 900 and s["active"], s
assert s["next"] and s["last_run"]["exit"] == 0, s
' "$T/stdout" || fail "status --json: $(cat "$T/stdout")"
expect_status 0 "$CKPTFS" schedule status
grep -q '^last run: .* exit 0: 2 complete$' "$T/stdout" || fail "last run: $(cat "$T/stdout")"

# --- --watch: a running `watch --all` service that snapshots on its own ------
expect_status 0 "$CKPTFS" schedule enable --every 1h --watch
grep -q '^watch: every registered project (ckptfs-watch.service, running)$' "$T/stdout" ||
	fail "enable --watch said: $(cat "$T/stdout")"
systemd-analyze --user verify "$units/ckptfs-watch.service" || fail "verify refused the watch unit"
wait_for 60 "ckptfs-watch.service not active" sh -c '[ "$(systemctl --user is-active ckptfs-watch.service)" = active ]'
expect_status 0 "$CKPTFS" schedule status
grep -q '^watch: ckptfs-watch.service running$' "$T/stdout" || fail "status: $(cat "$T/stdout")"
# Once the service's watch is on two's folder (its inotify fd lists the
# folder's inode; was: sleep 1, which a slow start outlasts, and the change
# went unseen), change a file: a snapshot tagged watch follows (default
# --quiet 10).
two_watched() {
	local pid ino
	pid=$(systemctl --user show -p MainPID --value ckptfs-watch.service) && [ "${pid:-0}" -gt 0 ] || return 1
	ino=$(printf '%x' "$(stat -c %i "$T/two")")
	grep -qs "^inotify wd:[0-9]* ino:$ino " /proc/"$pid"/fdinfo/*
}
wait_for 60 "the watch service does not watch $T/two" two_watched
printf 'watched\n' >"$T/two/f"
end=$((SECONDS + 120)) # quiet 10 s, then a snapshot: generous for a loaded machine
until "$CKPTFS" log --project two --json | grep -q '"tag": "watch"'; do
	[ $SECONDS -lt $end ] || fail "the watch service took no snapshot: $(journalctl --user -u ckptfs-watch 2>&1 | tail -5)"
	sleep 0.5
done

# enable again replaces (new interval, no watch), does not add
expect_status 0 "$CKPTFS" schedule enable --every 1h
grep -qx 'OnCalendar=\*-\*-\* \*:00:00' "$units/ckptfs.timer" || fail "re-enable did not replace the timer"
[ ! -e "$units/ckptfs-watch.service" ] || fail "enable without --watch left the watch service"
systemctl --user is-active ckptfs-watch.service >/dev/null 2>&1 && fail "watch service still running"
expect_status 2 "$CKPTFS" schedule enable --watch --cron

# --- disable removes everything enable created --------------------------------
expect_status 0 "$CKPTFS" schedule disable
grep -q '^schedule: disabled' "$T/stdout" || fail "disable said: $(cat "$T/stdout")"
after=$(cd "$HOME" && find . | sort)
[ "$before" = "$after" ] || { diff <(echo "$before") <(echo "$after") >&2; fail "disable left files behind"; }
systemctl --user is-active ckptfs.timer >/dev/null 2>&1 && fail "timer still active after disable"
expect_status 1 "$CKPTFS" schedule status
expect_status 0 "$CKPTFS" schedule disable
grep -q 'was not enabled' "$T/stdout" || fail "second disable: $(cat "$T/stdout")"
echo ok
