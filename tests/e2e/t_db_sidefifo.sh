#!/bin/bash
# A FIFO (or other special file) named like a database's -journal, -wal or
# -shm must not make snap hang with the writer lock held (issue 8, item 4):
# snap finishes, warns naming the file, and stores the database as it is.
. "$(dirname "$0")/lib.sh"

command -v sqlite3 >/dev/null || skip "no sqlite3 shell"
for side in -journal -wal -shm; do
	P=$T/proj$side
	mkdir -p "$P"
	cd "$P"
	sqlite3 app.db "PRAGMA journal_mode=WAL; CREATE TABLE t(x); INSERT INTO t VALUES (1);" >/dev/null
	rm -f app.db-wal app.db-shm
	mkfifo "app.db$side"
	# timeout only turns a hang into a failure; no timing is asserted.
	set +e
	timeout 120 "$CKPTFS" snap >"$T/stdout" 2>"$T/stderr"
	rc=$?
	set -e
	[ "$rc" != 124 ] || fail "snap hung on a FIFO named app.db$side"
	[ "$rc" = 0 ] || [ "$rc" = 3 ] || { cat "$T/stderr"; fail "snap exited $rc with a FIFO app.db$side"; }
	grep -q "app.db$side: not a regular file" "$T/stderr" ||
		{ cat "$T/stdout" "$T/stderr"; fail "no warning naming app.db$side"; }
	expect_status 0 "$CKPTFS" snap --dry-run
done

# The same class: a FIFO where discovery reads a hint (.env, compose, the
# project's .ckptfs.toml, read by snap and by forget --policy) is skipped,
# not opened for a read that waits for a writer forever.
for hint in .env .env.local docker-compose.yml config/database.yml .ckptfs.toml; do
	P=$T/hint-${hint//\//_}
	mkdir -p "$P/$(dirname "$hint")"
	cd "$P"
	echo data >file.txt
	mkfifo "$hint"
	set +e
	timeout 120 "$CKPTFS" snap -q >"$T/stdout" 2>"$T/stderr"
	rc=$?
	set -e
	[ "$rc" != 124 ] || fail "snap hung on a FIFO named $hint"
	[ "$rc" = 0 ] || { cat "$T/stderr"; fail "snap exited $rc with a FIFO $hint"; }
	set +e
	timeout 120 "$CKPTFS" forget --policy --dry-run >"$T/stdout" 2>"$T/stderr"
	rc=$?
	set -e
	[ "$rc" != 124 ] || fail "forget --policy hung on a FIFO named $hint"
done
echo ok
