#!/bin/bash
# The mount's @versions folder, for real: every path that ever existed is
# a folder (deleted ones too), its versions are named by their first
# snapshot and read byte for byte (and with the mtime and mode) as in that
# snapshot, compared with a brute-force walk of every snapshot folder;
# folders navigable; odd names; symlinks; read-only; a new snapshot shows.
. "$(dirname "$0")/lib.sh"

P=$T/myapp M=$T/mnt
mkdir -p "$P/src/deep"
cd "$P"
NL=$'new\nline'
BAD=$'bad\xffname'
snap() { ck snap >/dev/null; sleep 1.05; }
echo 'A=1' >.env; echo x >"src/with space.c"; echo n >"$NL"; echo b >"$BAD"; echo d >src/deep/d.txt
ln -s one link; echo gone >gone.txt
snap
echo 'B=22' >.env; ln -sfn two link; rm gone.txt
snap
echo 'A=1' >.env; chmod 600 .env; echo n2 >"$NL"
snap
rm .env
snap

mount_ckpt "$M"
V=$M/myapp/@versions
ls -a "$M/myapp" | grep -qx @versions || fail "@versions listed in the project folder"
ls -A "$V" >"$T/top.txt"
cat "$T/top.txt"
for n in .env gone.txt link src; do grep -qx -- "$n" "$T/top.txt" || fail "@versions lacks $n"; done
[ -d "$V/src/deep" ] || fail "folders navigable"
[ "$(stat -c %h "$V/src")" = 1 ] || fail "path folders: link count 1 (not counted)"
find "$V" >/dev/null || fail "find walks @versions"
[ -d "$V/gone.txt" ] || fail "a deleted file keeps its folder"
[ -d "$V/$NL" ] && [ -d "$V/$BAD" ] || fail "odd names"

# Brute force: for each path, the distinct versions over every snapshot
# folder, oldest first, each named by its first snapshot.
mapfile -t snaps < <(ls "$M/myapp" | grep -E '^[0-9]{4}-' | sort)
for f in .env gone.txt link "$NL" "$BAD" "src/with space.c" src/deep/d.txt; do
	want=() keys=()
	for s in "${snaps[@]}"; do
		x="$M/myapp/$s/$f"
		if [ -L "$x" ]; then k="l:$(readlink "$x")"
		elif [ -f "$x" ]; then k="f:$(stat -c %a "$x"):$(md5sum <"$x")"
		else continue; fi
		seen=0
		for o in "${keys[@]}"; do [ "$o" = "$k" ] && seen=1; done
		[ $seen = 1 ] && continue
		keys+=("$k"); want+=("$s")
	done
	got=$(ls "$V/$f" | sort)
	[ "$got" = "$(printf '%s\n' "${want[@]}" | sort)" ] ||
		fail "@versions/$f: got [$got], want [${want[*]}]"
	for s in "${want[@]}"; do
		a="$V/$f/$s" b="$M/myapp/$s/$f"
		if [ -L "$b" ]; then
			[ "$(readlink "$a")" = "$(readlink "$b")" ] || fail "$f@$s: symlink target"
		else
			cmp "$a" "$b" || fail "$f@$s: content"
			[ "$(stat -c '%a %s %Y' "$a")" = "$(stat -c '%a %s %Y' "$b")" ] || fail "$f@$s: mode/size/mtime"
		fi
	done
done
[ "$(ls "$V/.env" | wc -l)" = 3 ] || fail ".env: A, B, A with 0600 = three versions"

# cp gives back the bytes.
first=$(ls "$V/.env" | sort | head -1)
cp "$V/.env/$first" "$T/restored"
[ "$(cat "$T/restored")" = 'A=1' ] || fail "cp of a version"

# The CLI agrees with the folder.
ck versions --json .env >"$T/v.json"
python3 - "$T/v.json" "$V/.env" <<'PY' || fail "versions --json and @versions disagree"
import json, os, sys
v = json.load(open(sys.argv[1]))
assert sorted(x["first"] for x in v["versions"]) == sorted(os.listdir(sys.argv[2]))
PY

# Read-only.
if { echo x >"$V/.env/new"; } 2>/dev/null; then fail "write into @versions succeeded"; fi
if mkdir "$V/x" 2>/dev/null; then fail "mkdir in @versions succeeded"; fi

# A new snapshot shows up once the listing expires.
echo 'C=3' >.env
ck snap >/dev/null
wait_for 60 "new version in @versions" bash -c "[ \$(ls '$V/.env' | wc -l) = 4 ]"
echo ok
