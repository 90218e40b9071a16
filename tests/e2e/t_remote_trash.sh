#!/bin/bash
# The trash travels to a remote, sealed: one snapshot emptied from the
# trash and collected by gc, one emptied but not collected yet, one
# forgotten and restored (live again), one forgotten (in the trash);
# pushed to a directory and an rclone remote, then recovered into fresh
# repositories: `log` and `trash` show exactly what the source shows, and
# neither emptied snapshot comes back (everything log --json says but
# new_blobs/new_bytes, which a record holds as of before its pack was
# sealed).  check --repair of a lost catalog
# does the same from the local packs.  The manifest (plaintext) says
# nothing about the trash.
. "$(dirname "$0")/lib.sh"
export CKPTFS_KEYWRAP_MS=1
printf 'trash pass\n' >"$T/pass"
export CKPTFS_PASSPHRASE_FILE=$T/pass

P=$T/proj
mkdir -p "$P"
for i in 1 2 3 4 5 6; do
	echo "version $i" >"$P/file.txt"
	head -c 100000 /dev/zero | tr '\0' "$i" >"$P/blob$i.bin"
	(cd "$P" && ck snap -q -m "snap $i" -t "t$i")
done
cd "$P"
names=($("$CKPTFS" log | awk '{print $1}' | tac)) # oldest first
[ "${#names[@]}" = 6 ] || fail "expected 6 snapshots: ${names[*]}"
ck key passphrase >/dev/null
ck remote add usb "$T/usb" >/dev/null
targets=("$T/usb")
if command -v rclone >/dev/null; then
	export RCLONE_CONFIG=$T/rclone.conf
	printf '[loc]\ntype = local\n' >"$RCLONE_CONFIG"
	ck remote add cloud "rclone:loc:$T/cloud" >/dev/null
	targets+=("rclone:loc:$T/cloud")
fi
ck forget "${names[2]}" >/dev/null # emptied and collected
# Pushed while in the trash: its packs stay on the remotes for the grace
# period after gc, and still must not come back.
ck push >/dev/null
ck trash empty >/dev/null
ck gc >/dev/null
ck forget "${names[3]}" >/dev/null # emptied, its records still in packs
ck trash empty >/dev/null
ck forget "${names[1]}" >/dev/null # live again
ck trash restore "${names[1]}" >/dev/null
ck forget "${names[0]}" >/dev/null # in the trash
logs() { # the log of every project, without what a record cannot hold
	"$CKPTFS" log -p proj --json | python3 -c '
import json, sys
for s in json.load(sys.stdin):
    s.pop("new_blobs"); s.pop("new_bytes")
    print(json.dumps(s, sort_keys=True))'
}
logs >"$T/log.src"
"$CKPTFS" trash --json >"$T/trash.src"
[ "$(wc -l <"$T/log.src")" = 3 ] || fail "source log: $(cat "$T/log.src")"
grep -q "\"name\": \"${names[0]}\"" "$T/trash.src" || fail "source trash: $(cat "$T/trash.src")"
[ "$(grep -c '"name"' "$T/trash.src")" = 1 ] || fail "source trash: $(cat "$T/trash.src")"

ck push >/dev/null
grep -Eq '^pack [0-9a-f]+ [0-9]+ [0-9a-f]+ [1-9]' "$T/usb/manifest" || fail "no pack in its grace period on the remote"
! grep -qiE 'trash|expires|forgot' "$T/usb/manifest" || fail "the manifest speaks of the trash"

same_state() { # REPO WHAT: log and trash of REPO are the source's
	CKPTFS_REPO=$1 logs >"$T/log.got" || fail "$2: log"
	CKPTFS_REPO=$1 "$CKPTFS" trash --json >"$T/trash.got" || fail "$2: trash"
	diff "$T/log.src" "$T/log.got" >&2 || fail "$2: log differs"
	diff "$T/trash.src" "$T/trash.got" >&2 || fail "$2: trash differs"
}
n=0
for t in "${targets[@]}"; do
	n=$((n + 1))
	CKPTFS_REPO=$T/rec$n expect_status 0 "$CKPTFS" recover "$t"
	same_state "$T/rec$n" "recover $t"
	# The state stays right through the recovered repository's own life:
	# a trash restore there, then gc, keep everything.
	CKPTFS_REPO=$T/rec$n ck trash restore -p proj "${names[0]}" >/dev/null
	CKPTFS_REPO=$T/rec$n ck gc >/dev/null
	CKPTFS_REPO=$T/rec$n "$CKPTFS" log -p proj | grep -q "^${names[0]} " || fail "recover $t: restore after recover"
done

# A lost catalog, rebuilt from the local packs: the same state.
cp -a "$CKPTFS_REPO" "$T/lost"
rm -f "$T/lost/catalog.db" "$T/lost/catalog.db-wal" "$T/lost/catalog.db-shm"
CKPTFS_REPO=$T/lost expect_status 0 "$CKPTFS" check --repair
same_state "$T/lost" "check --repair"
echo ok
