#!/bin/bash
# ckptfs status: ok, stale (with a fixed clock, CKPTFS_NOW), failing (a
# partial snapshot; a failed scheduled run) and missing projects; exit 0
# only when nothing is stale or failing; -q; --json; bad input.
. "$(dirname "$0")/lib.sh"
# No schedule here, whatever the machine has.
export HOME=$T/home XDG_CONFIG_HOME=$T/home/.config XDG_RUNTIME_DIR=$T/no-runtime
unset DBUS_SESSION_BUS_ADDRESS
mkdir -p "$HOME"

expect_status 0 "$CKPTFS" status
grep -q 'no projects yet' "$T/stdout" || fail "empty repository: $(cat "$T/stdout")"
[ ! -e "$CKPTFS_REPO" ] || fail "status created a repository"

for p in good gone; do
	mkdir -p "$T/$p" && printf '%s\n' "$p" >"$T/$p/f"
	(cd "$T/$p" && ck snap -q)
done
now=$(($(date +%s) + 1)) # snapshots were taken before this second ends

# --- all fresh: ok, exit 0 ----------------------------------------------------
expect_status 0 "$CKPTFS" status
grep -q '^schedule: none (ckptfs schedule enable); stale after 1w$' "$T/stdout" || fail "header: $(cat "$T/stdout")"
grep -Eq '^good +(just now|[0-9]+ s ago) +ok$' "$T/stdout" || fail "good not ok: $(cat "$T/stdout")"
expect_status 0 "$CKPTFS" status -q
[ ! -s "$T/stdout" ] || fail "-q printed with all ok: $(cat "$T/stdout")"

# --- a fixed clock: 3 h later, stale after 2h --------------------------------
expect_status 1 env CKPTFS_NOW=$((now + 3 * 3600)) "$CKPTFS" status --stale-after 2h
grep -Eq '^good +3 h ago +stale +newest snapshot older than 2h$' "$T/stdout" || fail "not stale: $(cat "$T/stdout")"
expect_status 0 env CKPTFS_NOW=$((now + 3 * 3600)) "$CKPTFS" status --stale-after 4h
# Without a schedule the threshold is a week.
expect_status 0 env CKPTFS_NOW=$((now + 6 * 86400)) "$CKPTFS" status
expect_status 1 env CKPTFS_NOW=$((now + 8 * 86400)) "$CKPTFS" status

# --- missing: shown, never stale nor failing ---------------------------------
rm -rf "$T/gone"
expect_status 0 env CKPTFS_NOW=$((now + 30 * 86400)) "$CKPTFS" status --stale-after 40d
grep -Eq '^gone +.* +missing +root folder no longer exists$' "$T/stdout" || fail "missing: $(cat "$T/stdout")"
expect_status 1 env CKPTFS_NOW=$((now + 30 * 86400)) "$CKPTFS" status -q
grep -q '^good ' "$T/stdout" && ! grep -q '^gone ' "$T/stdout" || fail "-q: $(cat "$T/stdout")"

# --- failing: the last scheduled run failed for a project ----------------------
printf '[[[ not toml\n' >"$T/good/.ckptfs.toml"
"$CKPTFS" snap --all >/dev/null 2>&1 && fail "snap --all passed with a bad .ckptfs.toml"
expect_status 1 "$CKPTFS" status
grep -Eq '^good +.* +failing +last scheduled run failed: .ckptfs.toml:1' "$T/stdout" ||
	fail "failed run not reported: $(cat "$T/stdout")"
rm "$T/good/.ckptfs.toml"
# A snapshot taken since (by hand) answers it.
(cd "$T/good" && ck snap -q)
expect_status 0 "$CKPTFS" status

# --- failing: a partial newest snapshot (a database that cannot be dumped) ------
if command -v pg_dump >/dev/null; then
	printf 'DATABASE_URL=postgres://u:p@127.0.0.1:1/app\n' >"$T/good/.env"
	(cd "$T/good" && "$CKPTFS" snap -q 2>/dev/null) && fail "snap with a dead database was not partial"
	expect_status 1 "$CKPTFS" status --json
	python3 - "$T/stdout" <<'PY' || fail "--json: $(cat "$T/stdout")"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["ok"] is False and s["stale_after_s"] == 7 * 86400
assert s["schedule"]["enabled"] is False
p = {x["project"]: x for x in s["projects"]}
g = p["good"]
assert g["state"] == "failing" and g["failing"] and not g["stale"], g
assert g["newest"]["status"] == "partial" and g["newest"]["age_s"] >= 0
assert [d["name"] for d in g["databases_failing"]] == ["postgres-app"], g
assert "database postgres-app" in g["problem"]
assert p["gone"]["state"] == "missing"
PY
	rm "$T/good/.env"
fi

# --- --notify: one desktop notification per project and problem a day ----------
# A private session bus; dbus-monitor sees notify-send call the notification
# service (there is none here to answer, so notify-send itself fails).
# The three tools are test dependencies (scripts/install-deps.sh test), so
# their absence is a broken set-up, not a reason to skip.
for tool in dbus-daemon dbus-monitor notify-send; do
	command -v $tool >/dev/null || fail "$tool missing: make deps installs it"
done
{
	(cd "$T/good" && ck snap -q)
	expect_status 0 "$CKPTFS" status --notify
	[ ! -e "$CKPTFS_REPO/state/notified.json" ] || fail "--notify with nothing wrong recorded something"
	bus=unix:path=$T/bus
	dbus-daemon --session --nofork --address="$bus" >/dev/null 2>&1 &
	track_pid $!
	wait_for 60 "no session bus" test -S "$T/bus"
	dbus-monitor --address "$bus" "interface='org.freedesktop.Notifications'" >"$T/mon" 2>/dev/null &
	track_pid $!
	# It is monitoring once the bus took its name away (was: sleep 0.5,
	# which a slow start outlasts, missing the first call).
	wait_for 60 "dbus-monitor did not start" grep -qs 'member=NameLost' "$T/mon"
	calls() { grep -c 'destination=org.freedesktop.Notifications' "$T/mon" || true; }
	# synced: a signal after every message sent so far (the bus keeps their
	# order), waited for at the monitor, so calls counts all of them (was:
	# sleep 0.5 — a slow monitor could add a call after the count).
	marks=0
	synced() {
		marks=$((marks + 1))
		dbus-send --bus="$bus" --type=signal /ckptfs/test "org.freedesktop.Notifications.TestMark$marks"
		wait_for 60 "the monitor did not see mark $marks" grep -q "member=TestMark$marks\$" "$T/mon"
	}
	stale_now=$((now + 10 * 86400))
	# No bus: nothing sent, nothing recorded.
	expect_status 1 env -u DBUS_SESSION_BUS_ADDRESS CKPTFS_NOW=$stale_now "$CKPTFS" status --notify -q
	[ ! -e "$CKPTFS_REPO/state/notified.json" ] || fail "--notify without a bus recorded a notification"
	expect_status 1 env DBUS_SESSION_BUS_ADDRESS="$bus" CKPTFS_NOW=$stale_now "$CKPTFS" status --notify -q
	wait_for 60 "notify-send did not reach the bus" test "$(calls)" -gt 0
	grep -qF 'good\tstale' "$CKPTFS_REPO/state/notified.json" || fail "not recorded: $(cat "$CKPTFS_REPO/state/notified.json")"
	synced
	c1=$(calls)
	expect_status 1 env DBUS_SESSION_BUS_ADDRESS="$bus" CKPTFS_NOW=$((stale_now + 3600)) "$CKPTFS" status --notify -q
	synced
	[ "$(calls)" = "$c1" ] || fail "a second notification within a day"
	expect_status 1 env DBUS_SESSION_BUS_ADDRESS="$bus" CKPTFS_NOW=$((stale_now + 86401)) "$CKPTFS" status --notify -q
	wait_for 60 "no notification a day later" test "$(calls)" -gt "$c1"
}

# --- bad input ------------------------------------------------------------------
expect_status 2 "$CKPTFS" status --stale-after soon
grep -q '^ckptfs: status: --stale-after soon: not a duration' "$T/stderr" || fail "bad --stale-after: $(cat "$T/stderr")"
expect_status 2 "$CKPTFS" status extra
expect_status 1 env CKPTFS_REPO="$T/good/f" "$CKPTFS" status
grep -q '^ckptfs: ' "$T/stderr" || fail "unusable repository: no error line"
echo ok
