#!/bin/bash
# Bad input gets one clear "ckptfs: ..." line and a documented exit status.
. "$(dirname "$0")/lib.sh"

# expect_error STATUS REGEX CMD...: exactly one stderr line matching REGEX.
expect_error() {
	local want=$1 re=$2; shift 2
	expect_status "$want" "$@"
	[ "$(wc -l <"$T/stderr")" = 1 ] || { cat "$T/stderr" >&2; fail "$*: want one line on stderr"; }
	grep -Eq "$re" "$T/stderr" || fail "$*: stderr is '$(cat "$T/stderr")', wanted /$re/"
}

# --- usage -------------------------------------------------------------------
expect_error 2 '^ckptfs: snap: unknown option --bogus \(see ckptfs snap --help\)$' "$CKPTFS" snap --bogus
expect_error 2 '^ckptfs: snap: unknown option -Z \(see ckptfs snap --help\)$' "$CKPTFS" snap -Z
expect_error 2 '^ckptfs: snap: option -m needs an argument' "$CKPTFS" snap -m
expect_error 2 '^ckptfs: restore: which PATH\? ' "$CKPTFS" restore
expect_error 2 '^ckptfs: frobnicate: no such command \(see ckptfs --help\)$' "$CKPTFS" frobnicate
expect_error 2 '^ckptfs: log: -n .x.: not a count' "$CKPTFS" log -n x
expect_status 2 "$CKPTFS"
grep -q '^usage: ckptfs' "$T/stderr" || fail "no usage without a command"
for c in snap log projects show restore; do
	"$CKPTFS" "$c" --help | grep -q "^usage: ckptfs $c" || fail "$c --help"
	"$CKPTFS" help "$c" | grep -q "^usage: ckptfs $c" || fail "help $c"
done
"$CKPTFS" --help | grep -q '^  restore ' || fail "--help lists commands"
"$CKPTFS" --version | grep -Eq '^ckptfs [0-9]+\.[0-9]+' || fail "--version"

# --- a missing, non-directory or unreadable DIR writes nothing ----------------
expect_error 1 "^ckptfs: $T/nope: No such file or directory\$" "$CKPTFS" snap "$T/nope"
[ ! -e "$CKPTFS_REPO" ] || fail "a failed snap created the repository"
printf x >"$T/file"
expect_error 1 "^ckptfs: $T/file: Not a directory\$" "$CKPTFS" snap "$T/file"
[ ! -e "$CKPTFS_REPO" ] || fail "a failed snap created the repository"
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	# Root reads everything: check as nobody.
	chmod 755 "$T"
	mkdir -m 000 "$T/closed"
	mkdir -m 777 "$T/nobody"
	expect_error 1 "^ckptfs: $T/closed: Permission denied\$" \
		setpriv --reuid=65534 --regid=65534 --clear-groups \
		env CKPTFS_REPO="$T/nobody/repo" "$CKPTFS" snap "$T/closed"
	[ ! -e "$T/nobody/repo" ] || fail "a failed snap created the repository"

	# An unreadable file: reported, the snapshot is written, partial, status 3.
	Q=$T/nobody/partial
	mkdir -m 777 "$Q"
	printf 'fine\n' >"$Q/ok.txt"
	printf 'secret\n' >"$Q/secret.txt"
	chmod 000 "$Q/secret.txt"
	asnobody() { setpriv --reuid=65534 --regid=65534 --clear-groups env CKPTFS_REPO="$T/nobody/repo" "$CKPTFS" "$@"; }
	expect_error 3 '^ckptfs: secret.txt: cannot [a-z ]+: Permission denied$' asnobody snap "$Q"
	grep -Eq '^partial .*  partial: 1 path not stored as it is$' "$T/stdout" || fail "partial summary: $(cat "$T/stdout")"
	asnobody log --project partial | grep -q ' partial ' || fail "log does not say partial"
	asnobody show --project partial --json | python3 -c '
import json, sys
s = json.load(sys.stdin)["snapshot"]
assert s["status"] == "partial", s
assert s["notes"]["warnings"] == 1 and s["notes"]["paths"][0]["path"] == "secret.txt", s'
	chmod 644 "$Q/secret.txt"
	expect_status 0 asnobody snap "$Q"
fi
expect_error 1 "^ckptfs: no repository at $CKPTFS_REPO \(take a snapshot first: ckptfs snap\)\$" \
	"$CKPTFS" log

# --- unknown snapshots and times ---------------------------------------------
P=$T/proj
mkdir "$P"
printf 'hello\n' >"$P/a.txt"
cd "$P"
ck snap -q
expect_error 1 "^ckptfs: proj: 'nosuch' is not a snapshot name, tag or time " "$CKPTFS" show nosuch
expect_error 1 "^ckptfs: proj: '3 parsecs ago' is not a snapshot name, tag or time " \
	"$CKPTFS" restore a.txt --from "3 parsecs ago"
expect_error 1 '^ckptfs: proj: no snapshot named 2020-01-01T10:00:00.7 \(see ckptfs log\)$' \
	"$CKPTFS" restore a.txt --from 2020-01-01T10:00:00.7
expect_error 1 "^ckptfs: proj: no snapshot at or before 2020-01-01 23:59:59 \('2020-01-01'\)\$" \
	"$CKPTFS" restore a.txt --from 2020-01-01
expect_error 1 '^ckptfs: restore: nothere.txt: not in snapshot proj ' "$CKPTFS" restore nothere.txt
expect_error 1 '^ckptfs: nosuchproject: no such project \(see ckptfs projects\)$' \
	"$CKPTFS" log --project nosuchproject
expect_error 1 "^ckptfs: /: not in a registered project " sh -c 'cd / && "$0" show' "$CKPTFS"
[ "$(cat a.txt)" = hello ] || fail "a failed restore touched the project"

# --- a second project with the same folder name -------------------------------
mkdir -p "$T/other/proj"
expect_error 1 "^ckptfs: project proj: the name is taken by $P; give $T/other/proj another name with --name\$" \
	"$CKPTFS" snap "$T/other/proj"
ck snap -q --name proj2 "$T/other/proj"
ck log --project proj2 >/dev/null

# --- a locked repository ------------------------------------------------------
# -o: the lock stays with flock itself, so killing flock releases it.
flock -o "$CKPTFS_REPO/lock" sleep 30 &
holder=$!
track_pid $holder
wait_for 60 "flock did not take the lock" eval '! flock -n "$CKPTFS_REPO/lock" true'
start=$(date +%s%N)
expect_error 4 "^ckptfs: repository $CKPTFS_REPO: locked by another ckptfs( \(pid [0-9]+\))?\$" \
	env CKPTFS_LOCK_WAIT=1 "$CKPTFS" snap
waited=$((($(date +%s%N) - start) / 1000000))
[ "$waited" -ge 900 ] || fail "gave up after ${waited} ms, before CKPTFS_LOCK_WAIT=1"
# readers are not blocked by the writer lock
ck log >/dev/null
kill $holder
wait $holder 2>/dev/null || true
expect_error 1 '^ckptfs: CKPTFS_LOCK_WAIT=soon: not a number of seconds$' env CKPTFS_LOCK_WAIT=soon "$CKPTFS" snap

# --- a repository of a newer format -------------------------------------------
cp "$CKPTFS_REPO/format" "$T/format.saved"
sed -i 's/[0-9][0-9]*$/999/' "$CKPTFS_REPO/format"
expect_error 1 "^ckptfs: repository $CKPTFS_REPO: format 999 is newer than this ckptfs understands" \
	"$CKPTFS" snap
expect_error 1 "^ckptfs: repository $CKPTFS_REPO: format 999 is newer" "$CKPTFS" log
cp "$T/format.saved" "$CKPTFS_REPO/format"
ck snap -q

# --- a full disk: nothing committed, and the repository stays usable ----------
if [ "$(id -u)" = 0 ]; then
	mkdir "$T/small"
	mount -t tmpfs -o size=2m tmpfs "$T/small" || skip "cannot mount a tmpfs"
	_mounts+=("$T/small")
	export CKPTFS_REPO=$T/small/repo
	B=$T/big
	mkdir "$B"
	printf 'small\n' >"$B/small.txt"
	head -c 6000000 /dev/urandom >"$B/random.bin"
	expect_status 1 "$CKPTFS" snap "$B"
	[ "$(wc -l <"$T/stderr")" = 1 ] || { cat "$T/stderr" >&2; fail "full disk: want one line"; }
	grep -Eq '^ckptfs: .*(No space left on device|disk is full)' "$T/stderr" ||
		fail "full disk: $(cat "$T/stderr")"
	ck projects --json | python3 -c '
import json, sys
assert all(p["snapshots"] == 0 for p in json.load(sys.stdin)), "committed on a full disk"' ||
		fail "a snapshot was committed on a full disk"
	rm "$B/random.bin"
	ck snap -q "$B"
	ck restore . --project big --to "$T/bigout" >/dev/null
	same_tree "$B" "$T/bigout"
fi
echo ok
