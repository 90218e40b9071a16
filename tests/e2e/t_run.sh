#!/bin/bash
# ckptfs run: the snapshot holds the state before CMD; CMD's status and
# signals pass through; fail closed (unusable repository, a database that
# cannot be dumped) with CMD provably not run; --best-effort; --after; bad
# command lines.
. "$(dirname "$0")/lib.sh"

P=$T/proj
mkdir -p "$P"
cd "$P"
printf 'before\n' >data.txt

# --- the snapshot is taken before CMD, which sees the same environment ------
export RUN_PROBE=seen
expect_status 0 "$CKPTFS" run -m "before edit" -- sh -c \
	'printf after >data.txt; printf "%s %s" "$RUN_PROBE" "$PWD" >"$0"; cat' "$T/probe" \
	<<<"piped stdin"
[ "$(cat "$T/stdout")" = "piped stdin" ] || fail "CMD's stdin/stdout are not run's"
[ "$(cat "$T/probe")" = "seen $P" ] || fail "CMD's environment or directory differ: $(cat "$T/probe")"
ck restore data.txt --from run --to "$T/out/"
[ "$(cat "$T/out/data.txt")" = before ] || fail "the snapshot does not hold the state before CMD"
ck log --json >"$T/log.json"
grep -q '"message": "before edit"' "$T/log.json" || fail "-m not used"

# --- default message is the quoted command line, default tag run -------------
expect_status 0 "$CKPTFS" run -q -- printf '%s' "it's here"
[ ! -s "$T/stderr" ] || fail "-q printed: $(cat "$T/stderr")"
ck log --json >"$T/log.json"
grep -qF "\"message\": \"printf %s 'it'\\\\''s here'\"" "$T/log.json" ||
	fail "message is not the shell-quoted command: $(head -c 600 "$T/log.json")"
[ "$(grep -c '"tag": "run"' "$T/log.json")" = 2 ] || fail "default tag is not run"

# --- exit statuses and signals pass through ---------------------------------
expect_status 7 "$CKPTFS" run -q -- sh -c 'exit 7'
expect_status 143 "$CKPTFS" run -q -- sh -c 'kill -TERM $$'
expect_status 137 "$CKPTFS" run -q --after -- sh -c 'kill -KILL $$'
expect_status 127 "$CKPTFS" run -q -- no-such-command-here
grep -q '^ckptfs: run: no-such-command-here: ' "$T/stderr" || fail "no line for a missing CMD"
expect_status 126 "$CKPTFS" run -q -- "$P/data.txt"

# --- fail closed: an unusable repository -------------------------------------
rm -f "$T/ran"
printf 'not a repository\n' >"$T/badrepo"
expect_status 1 env CKPTFS_REPO="$T/badrepo" "$CKPTFS" run -- touch "$T/ran"
[ ! -e "$T/ran" ] || fail "CMD ran although the repository is unusable"
grep -q '^ckptfs: run: not running touch .*: no snapshot to go back to$' "$T/stderr" ||
	fail "no line saying CMD was not run: $(cat "$T/stderr")"
expect_status 0 env CKPTFS_REPO="$T/badrepo" "$CKPTFS" run --best-effort -- touch "$T/ran"
[ -e "$T/ran" ] || fail "--best-effort did not run CMD"
grep -q 'without a usable snapshot (--best-effort)' "$T/stderr" || fail "--best-effort gave no warning"

# --- fail closed: locked past the wait ---------------------------------------
rm -f "$T/ran"
ck snap -q
exec 9>>"$CKPTFS_REPO/lock"
flock -n 9 || fail "could not take the repository lock for the test"
expect_status 4 env CKPTFS_LOCK_WAIT=0 "$CKPTFS" run -- touch "$T/ran"
[ ! -e "$T/ran" ] || fail "CMD ran although the repository was locked"
exec 9>&-

# --- fail closed: a database that cannot be dumped ---------------------------
if command -v pg_dump >/dev/null; then
	printf 'DATABASE_URL=postgres://u:p@127.0.0.1:1/app\n' >.env
	expect_status 3 "$CKPTFS" run -- touch "$T/ran"
	[ ! -e "$T/ran" ] || fail "CMD ran although a database was not captured"
	grep -q 'not every database was captured' "$T/stderr" || fail "no reason given: $(cat "$T/stderr")"
	expect_status 0 "$CKPTFS" run --best-effort -- touch "$T/ran"
	[ -e "$T/ran" ] || fail "--best-effort did not run CMD past a database failure"
	rm -f .env "$T/ran"
fi

# --- a partial snapshot with every database captured counts ------------------
if [ "$(id -u)" != 0 ]; then
	printf 'x\n' >unreadable && chmod 000 unreadable
	expect_status 0 "$CKPTFS" run -- touch "$T/ran"
	[ -e "$T/ran" ] || fail "a partial snapshot without database problems stopped CMD"
	grep -q 'is partial .* so it counts' "$T/stderr" || fail "partial not said"
	rm -f unreadable "$T/ran"
fi

# --- --after: a second snapshot holding what CMD changed ---------------------
printf 'one\n' >data.txt
expect_status 5 "$CKPTFS" run --after -t mig -- sh -c 'printf two >data.txt; mkdir new; echo n >new/f; exit 5'
ck log --json >"$T/log.json"
grep -q '"tag": "run-after"' "$T/log.json" || fail "--after took no run-after snapshot"
grep -q '"message": "after: sh -c .* (exit 5)"' "$T/log.json" || fail "after message wrong"
ck show run-after >"$T/show"
grep -q 'new/f' "$T/show" || fail "show of run-after does not list what CMD changed: $(cat "$T/show")"
ck restore data.txt --from mig --to "$T/out2/"
[ "$(cat "$T/out2/data.txt")" = one ] || fail "--after: the first snapshot is not before CMD"

# --- bad command lines: usage, nothing written -------------------------------
n=$(ck log --json | grep -c '"name"')
expect_status 2 "$CKPTFS" run touch "$T/ran"
grep -q '^ckptfs: run: put -- before the command' "$T/stderr" || fail "missing -- not explained"
expect_status 2 "$CKPTFS" run --
grep -q '^ckptfs: run: no command to run after --' "$T/stderr" || fail "missing CMD not explained"
expect_status 2 "$CKPTFS" run
expect_status 2 "$CKPTFS" run --bogus -- true
[ ! -e "$T/ran" ] || fail "a usage error ran CMD"
[ "$(ck log --json | grep -c '"name"')" = "$n" ] || fail "a usage error took a snapshot"
exit 0
