#!/bin/bash
# versions: a scripted history (A, B, A again; deleted and back; a mode
# change; a file replaced by a directory; a symlink retargeted), compared
# with a brute-force restore of every snapshot; odd names in text and
# JSON; bad input.
. "$(dirname "$0")/lib.sh"

P=$T/myapp
mkdir -p "$P/src"
cd "$P"
NL=$'new\nline'
BAD=$'bad\xffname'
snap() { ck snap -m "$1" >/dev/null; sleep 1.05; }

echo 'A=1' >.env; echo x >"src/with space.c"; echo n >"$NL"; echo b >"$BAD"
ln -s one link
snap s1
echo 'B=22' >.env; ln -sfn two link
snap s2
echo 'A=1' >.env
snap s3
rm .env
snap s4
snap s5
echo 'A=1' >.env; chmod 600 .env; echo nn >"$NL"
snap s6
rm .env; mkdir .env; echo inner >.env/inner
snap s7

# --- text --------------------------------------------------------------------
ck versions .env >"$T/v.txt"
cat "$T/v.txt"
[ "$(wc -l <"$T/v.txt")" = 6 ] || fail "versions: want 6 runs"
sed -n 1p "$T/v.txt" | grep -Eq ' 4 B  0644  \(1 snapshot\)  v1$' || fail "run 1"
sed -n 2p "$T/v.txt" | grep -Eq ' 5 B  0644  \(1 snapshot\)  v2$' || fail "run 2"
sed -n 3p "$T/v.txt" | grep -Eq ' 4 B  0644  \(1 snapshot\)  v1$' || fail "run 3: A again is v1"
sed -n 4p "$T/v.txt" | grep -Eq 'deleted  \(2 snapshots without it\)$' || fail "run 4: the gap"
sed -n 5p "$T/v.txt" | grep -Eq ' 4 B  0600  \(1 snapshot\)  v3  back$' || fail "run 5: mode change, back"
sed -n 6p "$T/v.txt" | grep -Eq ' dir  0755  \(1 snapshot\)  v4$' || fail "run 6: a directory"
(cd src && ck versions ../link) | grep -q -- '-> two' || fail "symlink target, cwd-relative path"
(cd src && ck versions link) | grep -q -- '-> one' || fail "root-relative fallback"
(cd / && ck versions --project myapp src) | grep -q ' dir ' || fail "--project"
ck versions "$NL" | grep -q 'v2$' || fail "name with a newline"
ck versions "$BAD" | grep -q 'v1$' || fail "non-UTF-8 name"
[ "$(ck versions . | wc -l)" = 6 ] || fail "the root: a new tree each time but s4 = s5"

# --- JSON against a brute-force restore of every snapshot ----------------------
ck log --json >"$T/log.json"
for f in .env "$NL" "$BAD" link; do
	ck versions --json "$f" >"$T/v.json"
	: >"$T/brute.txt"
	python3 -c 'import json,sys; [print(s["name"]) for s in reversed(json.load(open(sys.argv[1])))]' \
		"$T/log.json" | while read -r name; do
		rm -rf "$T/out"; mkdir "$T/out"
		if "$CKPTFS" restore "$f" --from "$name" --to "$T/out/x" >/dev/null 2>&1; then
			if [ -L "$T/out/x" ]; then k="l:$(readlink "$T/out/x")"
			elif [ -d "$T/out/x" ]; then k="d:$(cd "$T/out/x" && find . | sort | md5sum)"
			else k="f:$(stat -c %a "$T/out/x"):$(md5sum <"$T/out/x")"; fi
		else k=absent; fi
		printf '%s\t%s\n' "$name" "$k" >>"$T/brute.txt"
	done
	python3 - "$T/v.json" "$T/brute.txt" "$f" <<'PY' || fail "versions --json $f differs from brute force"
import json, sys
v = json.load(open(sys.argv[1], encoding="utf-8", errors="surrogateescape"))
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[2], encoding="utf-8", errors="surrogateescape")]
# Expected runs from brute force: consecutive equal keys, leading absence dropped.
key_ver, runs = {}, []
for name, k in rows:
    if k == "absent":
        ver = None
    else:
        ver = key_ver.setdefault(k, len(key_ver) + 1)
    if runs and runs[-1][0] == ver:
        runs[-1][2] = name; runs[-1][3] += 1
    elif ver is not None or runs:
        runs.append([ver, name, name, 1])
got = [[r["version"], r["first"], r["last"], r["count"]] for r in v["runs"]]
assert got == runs, (got, runs)
assert v["path"] == sys.argv[3], v["path"]
assert len(v["versions"]) == len(key_ver), v["versions"]
for r in v["runs"]:
    assert r["deleted"] == (r["version"] is None)
PY
done

# --- bad input ---------------------------------------------------------------
expect_status 1 "$CKPTFS" versions never-existed
grep -q '^ckptfs: versions: never-existed: in no snapshot of myapp$' "$T/stderr" || fail "missing path message"
expect_status 1 "$CKPTFS" versions /etc/passwd
grep -q '/etc/passwd: not in a registered project' "$T/stderr" || fail "outside path message"
expect_status 1 "$CKPTFS" versions ../../x
expect_status 2 "$CKPTFS" versions
expect_status 2 "$CKPTFS" versions a b
expect_status 1 "$CKPTFS" versions --project nosuch x
grep -q 'nosuch: no such project' "$T/stderr" || fail "unknown project"
mkdir "$T/elsewhere"
(cd "$T/elsewhere" && expect_status 1 "$CKPTFS" versions x)
grep -q 'not in a registered project' "$T/stderr" || fail "unregistered working tree"
echo ok
