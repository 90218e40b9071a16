#!/bin/bash
# The disaster drill: three projects (one with a live SQLite database, one
# with a .env), several snapshots each, pushed to a remote; then the
# local repository and its key are deleted, `recover` rebuilds it from
# the remote and the passphrase, every snapshot restores byte for byte as
# it did before, check --read-data is clean, and a grep of the remote for
# the .env's secret finds nothing.
. "$(dirname "$0")/lib.sh"
export CKPTFS_KEYWRAP_MS=1
command -v sqlite3 >/dev/null || skip "sqlite3 is not installed"
secret='STRIPE_KEY=sk_live_drill_4242424242424242'

mkdir -p "$T/web" "$T/api/db" "$T/notes"
echo "$secret" >"$T/web/.env"
printf 'body { color: red }\n' >"$T/web/style.css"
sqlite3 "$T/api/db/app.db" 'PRAGMA journal_mode=WAL; CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);' >/dev/null
printf 'print("api")\n' >"$T/api/main.py"
head -c $((1 << 20)) /dev/urandom >"$T/notes/big.bin"
for round in 1 2 3; do
	echo "round $round" >>"$T/web/style.css"
	sqlite3 "$T/api/db/app.db" "INSERT INTO t(v) SELECT hex(randomblob(200)) FROM (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < 500) SELECT x FROM c);"
	echo "note $round" >"$T/notes/n$round.txt"
	for p in web api notes; do (cd "$T/$p" && ck snap -q -m "round $round"); done
done
printf 'drill pass\n' >"$T/pass"
CKPTFS_PASSPHRASE_FILE=$T/pass ck key passphrase >/dev/null
ck remote add usb "$T/usb" >/dev/null
ck push >/dev/null

# What every snapshot restores to, before the disaster.
for p in web api notes; do
	for s in $("$CKPTFS" log -p "$p" | awk '{print $1}'); do
		"$CKPTFS" restore . -p "$p" --from "$s" --to "$T/before/$p/$s" >/dev/null
		echo "$p $s" >>"$T/snaps"
	done
done
[ "$(wc -l <"$T/snaps")" = 9 ] || fail "expected 9 snapshots: $(cat "$T/snaps")"
! grep -rqF "$secret" "$T/usb" || fail ".env secret readable on the remote"
! grep -rqaF 'sk_live_drill' "$T/usb" || fail ".env secret fragment on the remote"

# --- the disaster -----------------------------------------------------------------
rm -rf "$CKPTFS_REPO"
CKPTFS_PASSPHRASE_FILE=$T/pass expect_status 0 "$CKPTFS" recover "$T/usb"
grep -Eq "^recovered $CKPTFS_REPO: [0-9]+ packs, .*, 3 projects, 9 snapshots, .*; remote usb added$" "$T/stdout" ||
	fail "recover: $(cat "$T/stdout")"
while read -r p s; do
	rm -rf "$T/after"
	"$CKPTFS" restore . -p "$p" --from "$s" --to "$T/after" >/dev/null || fail "restore $p $s"
	same_tree "$T/before/$p/$s" "$T/after"
done <"$T/snaps"
"$CKPTFS" restore . -p api --to "$T/api-after" >/dev/null
sqlite3 "$T/api-after/db/app.db" 'PRAGMA integrity_check; SELECT count(*) FROM t;' | tr '\n' ' ' | grep -q '^ok 1500 $' ||
	fail "restored database: $(sqlite3 "$T/api-after/db/app.db" 'SELECT count(*) FROM t;')"
expect_status 0 "$CKPTFS" check --read-data
grep -q '^no problems found$' "$T/stdout" || fail "check: $(cat "$T/stdout")"
expect_status 0 "$CKPTFS" check --remote usb --read-data
# Life goes on: a new snapshot, pushed as before.
echo after >>"$T/web/style.css"
(cd "$T/web" && ck snap -q -m "after the drill")
expect_status 0 "$CKPTFS" push
grep -Eq '^usb: [1-9][0-9]* new packs?, ' "$T/stdout" || fail "push after recover: $(cat "$T/stdout")"
echo ok
