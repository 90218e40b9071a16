#!/bin/bash
# ckptfs remote / push / recover against a directory remote and an rclone
# remote of type local: what push sends (packs byte for byte, the wrapped
# key, never the plain key), incremental pushes, the 14-day grace of
# deletions on a fixed clock (--no-delete, append-only), kill -9 during a
# push then push again = a clean push, check --remote --read-data naming
# a corrupt, a cut and a rotten pack with the snapshots and files they
# hold, a full remote (tmpfs), missing
# rclone, recover (wrong passphrase: nothing written; right: every
# snapshot back byte for byte, the remote re-added).
. "$(dirname "$0")/lib.sh"
export CKPTFS_KEYWRAP_MS=1
command -v rclone >/dev/null || skip "rclone is not installed"
command -v sqlite3 >/dev/null || skip "sqlite3 is not installed"
export RCLONE_CONFIG=$T/rclone.conf
printf '[loc]\ntype = local\n' >"$RCLONE_CONFIG"
printf 'the passphrase\n' >"$T/pass"

expect_status 1 "$CKPTFS" push
P=$T/proj
mkdir -p "$P/src"
echo 'API_KEY=sk-live-0123456789abcdefSECRET' >"$P/.env"
for i in $(seq 1 30); do echo "source $i" >"$P/src/f$i.c"; done
head -c $((3 << 20)) /dev/urandom >"$P/blob.bin"
(cd "$P" && ck snap -q -m "first" -t one)

expect_status 1 "$CKPTFS" push
grep -q 'no remotes to push to (add one: ckptfs remote add NAME TARGET)' "$T/stderr" || fail "no remotes: $(cat "$T/stderr")"
# The scheduled run's step: no remote added is not a failure, and says nothing.
expect_status 0 "$CKPTFS" push --if-configured
[ ! -s "$T/stdout" ] && [ ! -s "$T/stderr" ] || fail "push --if-configured with no remote printed something"
expect_status 1 "$CKPTFS" remote add 'bad/name' "$T/x"
expect_status 1 "$CKPTFS" remote add ok "$CKPTFS_REPO/inside"
grep -q 'inside the repository' "$T/stderr" || fail "inside: $(cat "$T/stderr")"
expect_status 2 "$CKPTFS" remote add onlyname
ck remote add usb "$T/usb" >/dev/null
ck remote add cloud "rclone:loc:$T/cloud" >/dev/null
expect_status 1 "$CKPTFS" remote add usb "$T/other"
grep -q 'remote usb: already exists' "$T/stderr" || fail "dup: $(cat "$T/stderr")"
expect_status 1 "$CKPTFS" push nosuch

# --- no wrapped key yet: refused, the remote would be unrecoverable ----------
expect_status 1 "$CKPTFS" push usb
grep -q 'no passphrase-wrapped key' "$T/stderr" || fail "no key: $(cat "$T/stderr")"
CKPTFS_PASSPHRASE_FILE=$T/pass ck key passphrase >/dev/null

# --- first push to both -------------------------------------------------------------
expect_status 0 "$CKPTFS" push
grep -Eq '^usb: [0-9]+ new packs?, [0-9.]+ [KM]iB, [0-9.]+ s; 0 deleted \(14-day grace\)$' "$T/stdout" || fail "usb line: $(cat "$T/stdout")"
grep -Eq '^cloud: [0-9]+ new packs?, ' "$T/stdout" || fail "cloud line: $(cat "$T/stdout")"
for r in usb cloud; do
	d=$T/$r
	[ -f "$d/manifest" ] && [ -f "$d/format" ] || fail "$r: no manifest/format"
	cmp -s "$d/key.wrapped" "$CKPTFS_REPO/key.wrapped" || fail "$r: wrapped key differs"
	[ ! -e "$d/key" ] || fail "$r: plain key on the remote"
	(cd "$CKPTFS_REPO" && find packs -name '*.pack' | sort) >"$T/local.lst"
	(cd "$d" && find packs -type f | sort) >"$T/remote.lst"
	cmp -s "$T/local.lst" "$T/remote.lst" || fail "$r: pack lists differ"
	while read -r f; do cmp -s "$CKPTFS_REPO/$f" "$d/$f" || fail "$r: $f differs"; done <"$T/local.lst"
	! grep -rqF 'sk-live-0123456789abcdefSECRET' "$d" || fail "$r: .env secret readable on the remote"
	! grep -rqF "$(head -c 48 "$CKPTFS_REPO/key" | tail -c 32 | od -An -tx1 | tr -d ' \n' | head -c 16)" "$d" ||
		fail "$r: plain key bytes on the remote"
done
expect_status 0 "$CKPTFS" push
grep -Eq '^usb: 0 new packs, 0 B, ' "$T/stdout" || fail "second push sent: $(cat "$T/stdout")"
# A new passphrase: the next push replaces the wrapped key on both (rclone
# sends the key again only when it changed: remote/NAME.meta), and the
# old passphrase no longer opens what the remote holds.
printf 'the new passphrase\n' >"$T/pass2"
cp "$T/cloud/key.wrapped" "$T/old.wrapped"
CKPTFS_PASSPHRASE_FILE=$T/pass2 ck key passphrase >/dev/null
ck push >/dev/null
for r in usb cloud; do
	cmp -s "$T/$r/key.wrapped" "$CKPTFS_REPO/key.wrapped" || fail "$r: wrapped key not replaced"
	[ ! -e "$T/$r/key.wrapped.tmp" ] || fail "$r: temp key left"
done
! cmp -s "$T/old.wrapped" "$CKPTFS_REPO/key.wrapped" || fail "the new passphrase made the same wrapped key"
CKPTFS_PASSPHRASE_FILE=$T/pass ck key passphrase >/dev/null # back, for the tests below
ck push >/dev/null
cmp -s "$T/cloud/key.wrapped" "$CKPTFS_REPO/key.wrapped" || fail "cloud: wrapped key not put back"
expect_status 0 "$CKPTFS" remote list
grep -Eq '^usb  '"$T"'/usb$' "$T/stdout" || fail "list: $(cat "$T/stdout")"
grep -q 'pending: 0 packs, 0 B' "$T/stdout" || fail "list pending: $(cat "$T/stdout")"
expect_status 0 "$CKPTFS" remote list --json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert [r["name"] for r in d]==["usb","cloud"] and d[0]["pending_packs"]==0 and d[0]["packs"]>0' "$T/stdout" ||
	fail "list --json: $(cat "$T/stdout")"

# --- incremental: only the new packs travel ------------------------------------------
before=$(find "$CKPTFS_REPO/packs" -name "*.pack" | wc -l)
head -c $((1 << 20)) /dev/urandom >"$P/new.bin"
(cd "$P" && ck snap -q -m second)
expect_status 0 "$CKPTFS" remote list
grep -q 'pending: [1-9]' "$T/stdout" || fail "no pending after snap: $(cat "$T/stdout")"
after=$(find "$CKPTFS_REPO/packs" -name "*.pack" | wc -l)
expect_status 0 "$CKPTFS" push usb --json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert len(d)==1 and d[0]["ok"] and d[0]["new_packs"]==int(sys.argv[2]), d' "$T/stdout" $((after - before)) ||
	fail "incremental: $(cat "$T/stdout")"
ck push cloud >/dev/null

# --- gc's deletions reach the remote only after 14 days (fixed clock) -------------------
# Do what gc does to one pack: drop it from the catalog, then the file.
ck remote add keep "$T/keep" --append-only >/dev/null
ck push keep >/dev/null
victim=$(sqlite3 "$CKPTFS_REPO/catalog.db" "SELECT name FROM packs ORDER BY size LIMIT 1")
vpath=packs/${victim:0:2}/$victim.pack
sqlite3 "$CKPTFS_REPO/catalog.db" "DELETE FROM blobs WHERE pack_id = (SELECT id FROM packs WHERE name = '$victim'); DELETE FROM packs WHERE name = '$victim';"
rm "$CKPTFS_REPO/$vpath"
now=$(date +%s)
CKPTFS_NOW=$now expect_status 0 "$CKPTFS" push usb
grep -Eq '^usb: 0 new packs, 0 B, .*; 0 deleted, 1 kept until .* \(14-day grace\)$' "$T/stdout" || fail "grace day 0: $(cat "$T/stdout")"
[ -f "$T/usb/$vpath" ] || fail "deleted at once"
grep -q "^pack $victim .* $((now))000000000\$" "$T/usb/manifest" || fail "gone time not recorded: $(grep "$victim" "$T/usb/manifest")"
CKPTFS_NOW=$((now + 13 * 86400)) expect_status 0 "$CKPTFS" push usb
[ -f "$T/usb/$vpath" ] || fail "deleted after 13 days"
CKPTFS_NOW=$((now + 15 * 86400)) expect_status 0 "$CKPTFS" push usb --no-delete
grep -q '0 deleted, 1 kept until .* (--no-delete)$' "$T/stdout" || fail "--no-delete: $(cat "$T/stdout")"
[ -f "$T/usb/$vpath" ] || fail "deleted despite --no-delete"
CKPTFS_NOW=$((now + 15 * 86400)) expect_status 0 "$CKPTFS" push usb
grep -Eq '; 1 deleted \(14-day grace\)$' "$T/stdout" || fail "day 15: $(cat "$T/stdout")"
[ ! -e "$T/usb/$vpath" ] || fail "not deleted after 15 days"
! grep -q "$victim" "$T/usb/manifest" || fail "deleted pack still in the manifest"
CKPTFS_NOW=$now ck push keep >/dev/null
CKPTFS_NOW=$((now + 400 * 86400)) expect_status 0 "$CKPTFS" push keep
grep -q '0 deleted, 1 kept until .* (append-only remote)$' "$T/stdout" || fail "append-only: $(cat "$T/stdout")"
[ -f "$T/keep/$vpath" ] || fail "append-only remote deleted"
# The rclone remote: packs past their grace go in one rclone run for all
# of them (a shim on PATH logs every rclone run), not one per pack.
victim2=$(sqlite3 "$CKPTFS_REPO/catalog.db" "SELECT name FROM packs ORDER BY size LIMIT 1")
v2path=packs/${victim2:0:2}/$victim2.pack
[ -f "$T/keep/$v2path" ] && [ -f "$T/cloud/$vpath" ] && [ -f "$T/cloud/$v2path" ] || fail "victims not on the remotes"
sqlite3 "$CKPTFS_REPO/catalog.db" "DELETE FROM blobs WHERE pack_id = (SELECT id FROM packs WHERE name = '$victim2'); DELETE FROM packs WHERE name = '$victim2';"
rm "$CKPTFS_REPO/$v2path"
CKPTFS_NOW=$now expect_status 0 "$CKPTFS" push cloud
grep -q '0 deleted, 2 kept until' "$T/stdout" || fail "rclone grace day 0: $(cat "$T/stdout")"
mkdir -p "$T/shim"
printf '#!/bin/sh\necho "$*" >>"%s"\nexec "%s" "$@"\n' "$T/rclone.log" "$(command -v rclone)" >"$T/shim/rclone"
chmod +x "$T/shim/rclone"
PATH=$T/shim:$PATH CKPTFS_NOW=$((now + 15 * 86400)) expect_status 0 "$CKPTFS" push cloud
grep -Eq '; 2 deleted \(14-day grace\)$' "$T/stdout" || fail "rclone day 15: $(cat "$T/stdout")"
[ ! -e "$T/cloud/$vpath" ] && [ ! -e "$T/cloud/$v2path" ] || fail "rclone: not deleted after 15 days"
! grep -q -e "$victim" -e "$victim2" "$T/cloud/manifest" || fail "rclone: deleted packs still in the manifest"
[ "$(grep -c ' delete ' "$T/rclone.log")" = 1 ] && ! grep -q deletefile "$T/rclone.log" ||
	fail "rclone deletions not in one run: $(cat "$T/rclone.log")"
# Undo the simulated gc from the remote (the point of the grace period):
# the packs back, and check --repair indexes them again.
cp "$T/keep/$vpath" "$CKPTFS_REPO/$vpath"
cp "$T/keep/$v2path" "$CKPTFS_REPO/$v2path"
ck check --repair -q
ck check -q
ck push cloud >/dev/null
[ -f "$T/cloud/$vpath" ] && [ -f "$T/cloud/$v2path" ] || fail "rclone: packs back locally not pushed again"

# --- kill -9 during a push, then push again = a clean push ---------------------------
head -c $((24 << 20)) /dev/urandom >"$P/big.bin"
(cd "$P" && ck snap -q -m big)
rounds=3
[ "${CKPTFS_LONG:-}" = 1 ] && rounds=50
ck remote add clean "$T/clean" >/dev/null
ck push clean >/dev/null
ck remote add killed "$T/killed" >/dev/null
mid=0 # kills that hit a push still running (it died of the signal)
for i in $(seq 1 "$rounds"); do
	# New work each round, so every push has packs to send when killed.
	head -c $((1 << 20)) /dev/urandom >"$P/round$i.bin"
	(cd "$P" && ck snap -q -m "round $i")
	"$CKPTFS" push killed --bwlimit 4M >/dev/null 2>&1 &
	pid=$!
	sleep "0.$((RANDOM % 9 + 1))"
	kill -9 "$pid" 2>/dev/null || true
	st=0
	wait "$pid" 2>/dev/null || st=$?
	[ "$st" = 137 ] && mid=$((mid + 1))
	# Valid at every instant: a manifest present names only complete packs.
	if [ -f "$T/killed/manifest" ]; then
		while read -r _ name size _; do
			f=$T/killed/packs/${name:0:2}/$name.pack
			[ "$(stat -c %s "$f" 2>/dev/null)" = "$size" ] || fail "kill $i: manifest names $name, not complete"
		done < <(grep '^pack ' "$T/killed/manifest")
	fi
	# Also from a remote with no manifest yet (and some packs lost with
	# it, so later rounds still have something to send).
	if [ $((i % 5)) = 0 ]; then
		rm -f "$T/killed/manifest"
		rm -rf "$T/killed/packs/$(ls "$T/killed/packs" 2>/dev/null | head -1)"
	fi
done
expect_status 0 "$CKPTFS" push killed
ck push clean >/dev/null
(cd "$T/clean" && find . -type f ! -name manifest | sort | xargs sha256sum) >"$T/a"
(cd "$T/killed" && find . -type f ! -name manifest | sort | xargs sha256sum) >"$T/b"
diff "$T/a" "$T/b" >&2 || fail "killed pushes + push differ from a clean push"
diff <(grep -v -e '^time ' -e '^sum ' -e '^remote ' "$T/clean/manifest") \
	<(grep -v -e '^time ' -e '^sum ' -e '^remote ' "$T/killed/manifest") >&2 || fail "manifests differ"
expect_status 0 "$CKPTFS" push killed
grep -Eq '^killed: 0 new packs' "$T/stdout" || fail "resume re-sent: $(cat "$T/stdout")"

# The same through rclone (all packs in one copy straight to their names,
# the manifest to a temp name beside it, then moved): killed at random
# instants, then pushed again.  rclone's
# --files-from lists are written in the repository's remote/ state, never
# in $TMPDIR, and the next push removes a killed one's.
ck remote add rkilled "rclone:loc:$T/rkilled" >/dev/null
mkdir -p "$T/tmp"
rmid=0
rrounds=$((rounds < 10 ? 2 : rounds))
for i in $(seq 1 "$rrounds"); do
	# --bwlimit: the copy still runs when the kill comes (as above).
	TMPDIR=$T/tmp "$CKPTFS" push rkilled --bwlimit 4M >/dev/null 2>&1 &
	pid=$!
	# Every other kill in the first half second: the look, with the pack
	# copy's rclone started beside it and held, and the copy's first
	# moments; the others anywhere in the copy or the manifest's move.
	if [ $((i % 2)) = 1 ]; then
		sleep "0.$((RANDOM % 5))$((RANDOM % 10))"
	else
		sleep "$((RANDOM % 3)).$((RANDOM % 9 + 1))"
	fi
	kill -9 "$pid" 2>/dev/null || true
	st=0
	wait "$pid" 2>/dev/null || st=$?
	[ "$st" = 137 ] && rmid=$((rmid + 1))
	# Something left to send in later rounds: the manifest lost, and with
	# it some packs (a remote still valid: nothing names them).
	if [ $((i % 3)) = 0 ]; then
		rm -f "$T/rkilled/manifest"
		rm -rf "$T/rkilled/packs/$(ls "$T/rkilled/packs" 2>/dev/null | head -1)"
	fi
	if [ -f "$T/rkilled/manifest" ]; then
		while read -r _ name size _; do
			f=$T/rkilled/packs/${name:0:2}/$name.pack
			[ "$(stat -c %s "$f" 2>/dev/null)" = "$size" ] || fail "rclone kill $i: manifest names $name, not complete"
		done < <(grep '^pack ' "$T/rkilled/manifest")
	fi
done
TMPDIR=$T/tmp expect_status 0 "$CKPTFS" push rkilled
[ -z "$(ls -A "$T/tmp")" ] || fail "left in TMPDIR: $(ls -A "$T/tmp")"
[ ! -e "$CKPTFS_REPO/remote/rkilled.files" ] || fail "a --files-from list left after a push"
[ ! -e "$CKPTFS_REPO/remote/rkilled.next" ] || fail "a staged manifest left after a push"
(cd "$T/rkilled" && find . -type f ! -name manifest | sort | xargs sha256sum) >"$T/c"
diff "$T/a" "$T/c" >&2 || fail "killed rclone pushes + push differ from a clean push"
diff <(grep -v -e '^time ' -e '^sum ' -e '^remote ' "$T/clean/manifest") \
	<(grep -v -e '^time ' -e '^sum ' -e '^remote ' "$T/rkilled/manifest") >&2 || fail "rclone manifests differ"
ck remote remove rkilled >/dev/null
[ -z "$(ls "$CKPTFS_REPO/remote" | grep '^rkilled\.')" ] || fail "remote remove left: $(ls "$CKPTFS_REPO/remote")"
# The manifest's move is started beside the copy and held on its stdin
# list; a push killed meanwhile closes that list, so from the moment
# manifest.tmp exists the move must be stopped (SIGSTOP), not waiting:
# a waiting one would take that end of file as its go and commit packs
# still travelling.  Seen stopped mid-copy, then killed: no manifest.
ck remote add held "rclone:loc:$T/held" >/dev/null
"$CKPTFS" push held --bwlimit 2M >/dev/null 2>&1 &
pid=$!
wait_for 60 "no manifest.tmp on the remote while the packs travel" test -e "$T/held/manifest.tmp"
mpid=$(pgrep -P "$pid" -f 'moveto --exclude-from -' || true)
[ -n "$mpid" ] || fail "no held rclone moveto beside the copy"
[ "$(awk '{print $3}' "/proc/$mpid/stat")" = T ] || fail "held rclone moveto not stopped while the packs travel"
[ ! -e "$T/held/manifest" ] || fail "manifest before the packs were in"
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
sleep 0.5
[ ! -e "$T/held/manifest" ] || fail "a push killed mid-copy committed its manifest"
# Gone, or a zombie not yet reaped by whoever inherited it.
st=$(awk '{print $3}' "/proc/$mpid/stat" 2>/dev/null || echo gone)
[ "$st" = gone ] || [ "$st" = Z ] || fail "the held rclone moveto outlived the push (state $st)"
ck push held >/dev/null
(cd "$T/held" && find . -type f ! -name manifest | sort | xargs sha256sum) >"$T/d"
ck push clean >/dev/null
(cd "$T/clean" && find . -type f ! -name manifest | sort | xargs sha256sum) >"$T/a"
diff "$T/a" "$T/d" >&2 || fail "killed held push + push differ from a clean push"
ck remote remove held >/dev/null
echo "kill -9 during push: directory $rounds rounds ($mid mid-run), rclone $rrounds rounds ($rmid mid-run); each then pushed = a clean push"

# --- check --remote: sound; a corrupt and a truncated pack are found ----------------------
expect_status 0 "$CKPTFS" check --remote clean --read-data
grep -Eq '^remote clean: [0-9]+ packs checked; read [0-9]+ packs \(.*\), [0-9,]+ blobs$' "$T/stdout" || fail "check --remote: $(cat "$T/stdout")"
expect_status 0 "$CKPTFS" check --remote cloud --read-data=50 --seed 7
# Over rclone the packs are read in batches (one rclone run each): a
# flipped byte is still found and named.
flip() { python3 -c 'import sys; f = open(sys.argv[1], "r+b"); f.seek(5000); b = f.read(1); f.seek(5000); f.write(bytes([b[0] ^ 0x20]))' "$1"; }
cbig=$(ls -S "$T"/cloud/packs/*/*.pack | sed -n 1p) # sed reads it all: head could SIGPIPE ls (pipefail)
flip "$cbig"
expect_status 1 "$CKPTFS" check --remote cloud --read-data
grep -q "^damaged: pack $(basename "$cbig" .pack): its bytes do not match the manifest's checksum$" "$T/stdout" ||
	fail "rclone corrupt: $(cat "$T/stdout")"
[ -z "$(find "$CKPTFS_REPO/remote" -path '*.check/*' -type f)" ] || fail "check left fetched packs behind"
flip "$cbig"
expect_status 0 "$CKPTFS" check --remote cloud --read-data
expect_status 2 "$CKPTFS" check --remote clean --repair
expect_status 1 "$CKPTFS" check --remote nosuch
big=$(ls -S "$T"/clean/packs/*/*.pack | sed -n 1p)
small=$(ls -S "$T"/clean/packs/*/*.pack | tail -1)
flip "$big"
expect_status 0 "$CKPTFS" check --remote clean    # same size: only reading finds it
expect_status 1 "$CKPTFS" check --remote clean --read-data
bn=$(basename "$big" .pack)
grep -q "^damaged: pack $bn: its bytes do not match the manifest's checksum$" "$T/stdout" || fail "corrupt: $(cat "$T/stdout")"
grep -Eq "^damaged: snapshot proj/.*: its pack is damaged$" "$T/stdout" || fail "affected files not named: $(cat "$T/stdout")"
grep -q 'remote clean is damaged' "$T/stderr" || fail "corrupt stderr: $(cat "$T/stderr")"
# The biggest pack is the "big" snapshot's (24 MiB of big.bin, and its
# trees): damage in it names, from the local catalog, that snapshot by
# its root tree, each later one by the file and its chunk in that pack,
# and none of the older ones.
affected_by_big() {
	local name held
	while read -r name held; do
		case $held in
		own) grep -Eq "^damaged: snapshot proj/$name: /: tree [0-9a-f]+: its pack is damaged$" "$T/stdout" ||
			fail "$1: snapshot $name: its root tree not named: $(cat "$T/stdout")" ;;
		later) grep -Eq "^damaged: snapshot proj/$name: big\.bin: chunk [0-9a-f]+ \(file offset 0\) in pack $bn: its pack is damaged$" "$T/stdout" ||
			fail "$1: snapshot $name: big.bin not named: $(cat "$T/stdout")" ;;
		*) ! grep -q "^damaged: snapshot proj/$name: " "$T/stdout" || fail "$1: snapshot $name named: it holds nothing of pack $bn: $(cat "$T/stdout")" ;;
		esac
	done < <("$CKPTFS" log -p proj --json | python3 -c 'import json,sys
held = "older"
for s in sorted(json.load(sys.stdin), key=lambda s: s["time_ns"]):
    held = "own" if s["message"] == "big" else "later" if held != "older" else held
    print(s["name"], held)')
}
affected_by_big "corrupt"
# Read pack by pack through the work folder, nothing left in it.
[ -z "$(find "$CKPTFS_REPO/remote" -path '*.check/*' -type f)" ] || fail "check left fetched packs behind"
# Cut short (the flipped byte put back): named by its size, the same
# snapshots and files, also when reading.
flip "$big"
bsize=$(stat -c %s "$big")
truncate -s $((bsize - 4096)) "$big"
expect_status 1 "$CKPTFS" check --remote clean --read-data
grep -q "^damaged: pack $bn: $((bsize - 4096)) bytes on the remote, the manifest says $bsize$" "$T/stdout" ||
	fail "truncated, read: $(cat "$T/stdout")"
affected_by_big "truncated"
truncate -s 100 "$small"
expect_status 1 "$CKPTFS" check --remote clean -q
grep -q "^damaged: pack $(basename "$small" .pack): 100 bytes on the remote, the manifest says " "$T/stdout" || fail "truncated: $(cat "$T/stdout")"
second=$(ls -S "$T"/clean/packs/*/*.pack | sed -n 2p)
mv "$second" "$T/aside.pack"
expect_status 1 "$CKPTFS" check --remote clean -q
grep -q "^damaged: pack $(basename "$second" .pack): missing on the remote (the manifest lists it)$" "$T/stdout" ||
	fail "missing: $(cat "$T/stdout")"
mv "$T/aside.pack" "$second"
expect_status 1 "$CKPTFS" check --remote clean --json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert not d["healthy"] and d["damaged_packs"]>=1' "$T/stdout" || fail "--json: $(cat "$T/stdout")"
# push re-sends the cut one; the corrupt one once removed from the remote.
rm "$big"
ck push clean >/dev/null
expect_status 0 "$CKPTFS" check --remote clean --read-data
ck check -q
# Every blob is authenticated, not only the checksum compared: a pack
# that rotted locally before its first push reaches a new remote with
# the manifest's sum of the rotten bytes (a push hashes what it sends),
# and check --read-data still names it and what it holds.
lbig=$CKPTFS_REPO/packs/${bn:0:2}/$bn.pack
flip "$lbig"
ck remote add rot "$T/rot" >/dev/null
ck push rot >/dev/null
flip "$lbig"
ck check -q
expect_status 1 "$CKPTFS" check --remote rot --read-data
grep -q "^damaged: pack $bn: a blob in it does not authenticate$" "$T/stdout" || fail "rot: $(cat "$T/stdout")"
[ "$(grep -c '^damaged: pack ' "$T/stdout")" = 2 ] || fail "rot: other packs named: $(cat "$T/stdout")"
affected_by_big "rot"
ck remote remove rot >/dev/null

# --- a remote holding another repository: refused before anything is written to it ------
# push starts its pack copy's rclone beside its look at the remote (held,
# waiting for its list): a remote the look refuses gets nothing from it,
# not a folder, not a byte, not a changed time.
tree_state() { (cd "$1" && find . -printf '%y %p %s %T@ %m\n' | sort && find . -type f -exec sha256sum {} + | sort); }
mkdir -p "$T/oproj"
head -c $((1 << 20)) /dev/urandom >"$T/oproj/o.bin"
(cd "$T/oproj" && CKPTFS_REPO=$T/orepo ck snap -q)
CKPTFS_REPO=$T/orepo CKPTFS_PASSPHRASE_FILE=$T/pass ck key passphrase >/dev/null
CKPTFS_REPO=$T/orepo ck remote add theirs "rclone:loc:$T/theirs" >/dev/null
CKPTFS_REPO=$T/orepo ck push theirs >/dev/null
ck remote add theirs "rclone:loc:$T/theirs" >/dev/null
tree_state "$T/theirs" >"$T/theirs.before"
expect_status 1 "$CKPTFS" push theirs
grep -q '^ckptfs: remote theirs: holds another repository (id ' "$T/stderr" || fail "foreign: $(cat "$T/stderr")"
[ "$(wc -l <"$T/stderr")" = 1 ] || fail "foreign: more than one line: $(cat "$T/stderr")"
tree_state "$T/theirs" | diff "$T/theirs.before" - >&2 || fail "a refused push changed the other repository's remote"
ck remote remove theirs >/dev/null

# --- what push relies on in rclone: a run held on its stdin list does nothing before it ---
# push starts `rclone copy --files-from -` before it has looked at the
# remote: rclone must not touch the destination while it waits for its
# list, nor when the list ends empty (push killed during its look).
# Pinned here, for the rclone installed: held until it is blocked reading
# fd 0, and longer.
if cat /proc/$$/syscall >/dev/null 2>&1; then
	mkdir -p "$T/gsrc"
	echo a >"$T/gsrc/a"
	for list in "" "a"; do
		rm -rf "$T/gdst" "$T/gate.fifo"
		mkfifo "$T/gate.fifo"
		rclone copy --files-from - --no-traverse "$T/gsrc" "loc:$T/gdst/sub" <"$T/gate.fifo" &
		gpid=$!
		exec 3>"$T/gate.fifo"
		# Some thread of it in read(0, ...): syscall 0 with fd 0.
		reading() { cat /proc/$gpid/task/*/syscall 2>/dev/null | grep -q '^0 0x0 '; }
		wait_for 60 "rclone copy never read its list" reading
		sleep 0.3
		[ ! -e "$T/gdst" ] || fail "a held rclone copy touched its destination before its list"
		[ -z "$list" ] || echo "$list" >&3
		exec 3>&-
		wait "$gpid" || fail "held rclone copy (list '$list') failed"
		if [ -z "$list" ]; then
			[ ! -e "$T/gdst" ] || fail "rclone copy of an empty list made its destination"
		else
			cmp -s "$T/gsrc/a" "$T/gdst/sub/a" || fail "held rclone copy did not copy once let go"
		fi
	done
	# And the manifest's move: `moveto --exclude-from -` reads its list
	# (push writes a comment line first, to see it read) before it moves,
	# and an empty one (comments only) is no rule at all.
	mkdir -p "$T/gate"
	echo staged >"$T/gate/m.tmp"
	rm -f "$T/gate.fifo"
	mkfifo "$T/gate.fifo"
	rclone moveto --exclude-from - "loc:$T/gate/m.tmp" "loc:$T/gate/m" <"$T/gate.fifo" &
	gpid=$!
	exec 3>"$T/gate.fifo"
	echo '#' >&3
	wait_for 60 "rclone moveto never read its list" reading
	sleep 0.3
	[ -e "$T/gate/m.tmp" ] && [ ! -e "$T/gate/m" ] || fail "rclone moveto moved before it had its --exclude-from list"
	exec 3>&-
	wait "$gpid" || fail "rclone moveto --exclude-from - with a comment-only list failed"
	[ "$(cat "$T/gate/m")" = staged ] && [ ! -e "$T/gate/m.tmp" ] || fail "held moveto did not move once let go"
fi

# --- missing rclone: one line; the other remotes are still pushed ------------------------
mkdir -p "$T/bin"
for t in "$CKPTFS" sqlite3; do ln -sf "$(command -v "$t" || echo "$t")" "$T/bin/"; done
PATH=$T/bin expect_status 1 "$CKPTFS" push usb cloud
grep -q '^ckptfs: remote rclone:loc:.*/cloud: rclone is not installed (apt install rclone)$' "$T/stderr" || fail "no rclone: $(cat "$T/stderr")"
[ "$(wc -l <"$T/stderr")" = 1 ] || fail "no rclone: more than one line: $(cat "$T/stderr")"
grep -q '^usb: ' "$T/stdout" || fail "usb not pushed without rclone"

# --- a full remote (small tmpfs): one line, nothing lost locally ---------------------------
if [ "$(id -u)" = 0 ] && mkdir -p "$T/full" && mount -t tmpfs -o size=2m tmpfs "$T/full" 2>/dev/null; then
	at_exit "umount -l '$T/full' 2>/dev/null"
	ck remote add full "$T/full/r" >/dev/null
	expect_status 1 "$CKPTFS" push full
	grep -q 'No space left on device' "$T/stderr" || fail "full: $(cat "$T/stderr")"
	[ "$(wc -l <"$T/stderr")" = 1 ] || fail "full: more than one line: $(cat "$T/stderr")"
	[ ! -e "$T/full/r/manifest" ] || fail "full remote got a manifest"
	! find "$T/full/r" -name '*.tmp' | grep -q . || fail "full remote kept a temp file"
	ck check -q
	ck remote remove full >/dev/null
fi

# What recover must bring back of each snapshot (the new-data counts are
# the record's, written before the snapshot's last pack).
snaps() {
	"$CKPTFS" log -p proj --json | python3 -c 'import json,sys
for s in json.load(sys.stdin): print(s["name"], s["time_ns"], s["status"], s["message"], s["tag"], s["files"], s["bytes"], s["root"])'
}

# --- recover: wrong passphrase writes nothing; right one brings everything back --------
echo wrong >"$T/wrong"
CKPTFS_PASSPHRASE_FILE=$T/wrong expect_status 1 "$CKPTFS" recover "$T/usb" --repo "$T/rec"
grep -q 'wrong passphrase' "$T/stderr" || fail "wrong: $(cat "$T/stderr")"
[ "$(wc -l <"$T/stderr")" = 1 ] || fail "wrong passphrase: more than one line"
[ ! -e "$T/rec" ] && ! ls "$T" | grep -q 'rec\.recover' || fail "wrong passphrase wrote something"
for r in usb "rclone:loc:$T/cloud"; do
	dest=$T/rec-${r##*/}
	tgt=$r
	[ "$r" = usb ] && tgt=$T/usb
	"$CKPTFS" push >/dev/null 2>&1 || true
	# The second in another time zone: names are the recorded ones.
	tz=UTC
	[ "$r" = usb ] || tz=Asia/Kolkata
	TZ=$tz CKPTFS_PASSPHRASE_FILE=$T/pass expect_status 0 "$CKPTFS" recover "$tgt" --repo "$dest"
	nsnaps=$("$CKPTFS" log -p proj | wc -l)
	grep -Eq "^recovered $dest: [0-9]+ packs, .*, 1 projects, $nsnaps snapshots, .*; remote (usb|cloud) added$" "$T/stdout" ||
		fail "recover $r: $(cat "$T/stdout")"
	diff <(snaps) <(CKPTFS_REPO=$dest snaps) >&2 || fail "$r: snapshots differ"
	for s in $("$CKPTFS" log -p proj | awk '{print $1}'); do
		rm -rf "$T/o1" "$T/o2"
		"$CKPTFS" restore . -p proj --from "$s" --to "$T/o1" >/dev/null
		CKPTFS_REPO=$dest "$CKPTFS" restore . -p proj --from "$s" --to "$T/o2" >/dev/null
		same_tree "$T/o1" "$T/o2"
	done
	CKPTFS_REPO=$dest ck check --read-data -q
	CKPTFS_REPO=$dest expect_status 0 "$CKPTFS" push
	grep -Eq ': 0 new packs, 0 B' "$T/stdout" || fail "push after recover sent: $(cat "$T/stdout")"
done
expect_status 1 "$CKPTFS" recover "$T/usb" --repo "$T/rec-usb"
grep -q 'not empty' "$T/stderr" || fail "recover over a repository: $(cat "$T/stderr")"
echo ok
