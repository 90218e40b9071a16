#!/bin/bash
# search: two projects with a scripted history, compared with a
# brute-force restore of every snapshot; --project, --since, --until,
# --type, --json; odd names; exit statuses; a malformed glob.
. "$(dirname "$0")/lib.sh"

A=$T/alpha B=$T/beta
mkdir -p "$A/config" "$B/deep/er"
NL=$'sec\nrets.yml'
BAD=$'secrets\xff.yml'
snapA() { (cd "$A" && ck snap >/dev/null); sleep 1.05; }
echo 1 >"$A/config/secrets.yml"; echo x >"$A/readme"
echo 1 >"$B/deep/er/secrets.prod.yml"; echo 1 >"$B/$NL"; echo 1 >"$B/$BAD"
(cd "$B" && ck snap >/dev/null)
snapA
echo 2 >"$A/config/secrets.yml"
snapA
rm "$A/config/secrets.yml"; mkdir "$A/secrets.d"
snapA
T0=$(date -d '-1 sec' '+%Y-%m-%d %H:%M:%S')
echo 3 >"$A/config/secrets.yml"
snapA

# --- text --------------------------------------------------------------------
ck search 'secrets*.yml' >"$T/s.txt"
cat "$T/s.txt"
grep -Eq '^alpha  config/secrets.yml  2 B  \S+ -> \S+  \(3 snapshots\)$' "$T/s.txt" || fail "alpha match"
grep -Eq '^beta  deep/er/secrets.prod.yml  2 B  .*\(1 snapshot\)$' "$T/s.txt" || fail "beta match, at depth"
grep -Fq 'beta  secrets\xff.yml  ' "$T/s.txt" || fail "non-UTF-8 name escaped"
[ "$(wc -l <"$T/s.txt")" = 3 ] || fail "one line per distinct path"
ck search 'readme' | grep -q '(4 snapshots)$' || fail "an unchanged file: all four snapshots"
ck search 'secrets.d' | grep -q '^alpha  secrets.d/  dir' || fail "a directory"
expect_status 1 "$CKPTFS" search --type f secrets.d # "--type f leaves the directory out"
ck search --type d 'secrets.d' >/dev/null
ck search 'config/*.yml' | grep -q 'config/secrets.yml' || fail "a pattern with / matches the path"
expect_status 1 "$CKPTFS" search 'er/*.yml' # anchored at the root
ck search '**/er/*.yml' | grep -q 'deep/er/secrets.prod.yml' || fail "** across folders"
ck search --project beta '*.yml' >"$T/b.txt"
! grep -q alpha "$T/b.txt" || fail "--project"
ck search --since "$T0" 'secrets*.yml' | grep -q '(1 snapshot)$' || fail "--since"
expect_status 1 "$CKPTFS" search --until 2001-01-01 '*'

# A path that went away says where.
rm "$A/config/secrets.yml"; snapA
ck search 'secrets.yml' | grep -Eq '\(3 snapshots\)  gone in \S+$' || fail "gone in"

# --- JSON against brute force ------------------------------------------------
ck search --json 'sec*' >"$T/s.json"
for p in alpha beta; do
	ck log --project "$p" --json >"$T/log-$p.json"
	python3 -c 'import json,sys; [print(s["name"]) for s in reversed(json.load(open(sys.argv[1])))]' \
		"$T/log-$p.json" | while read -r name; do
		rm -rf "$T/r"
		(cd "$T" && "$CKPTFS" restore . --project "$p" --from "$name" --to "$T/r" >/dev/null)
		(cd "$T/r" && find . -mindepth 1 -name 'sec*' -printf "$p\t%P\t%y\t$name\n") >>"$T/brute.txt"
	done
done
python3 - "$T/s.json" "$T/brute.txt" <<'PY' || fail "search --json differs from brute force"
import json, sys
got = json.load(open(sys.argv[1], encoding="utf-8", errors="surrogateescape"))
want = {}
data = open(sys.argv[2], "rb").read().decode("utf-8", "surrogateescape")
# find -printf's %P may hold a newline: rows are project\tpath\ttype\tname\n
import re
for m in re.finditer(r"(alpha|beta)\t(.*?)\t([fdl])\t(\S+)\n", data, re.S):
    p, path, y, name = m.groups()
    want.setdefault((p, path, {"f": "file", "d": "dir", "l": "symlink"}[y]), []).append(name)
g = {(x["project"], x["path"], x["type"]): x for x in got}
assert set(g) == set(want), (sorted(g), sorted(want))
for k, names in want.items():
    assert g[k]["count"] == len(names), (k, g[k], names)
    assert g[k]["first"] == names[0] and g[k]["last"] == names[-1], (k, g[k], names)
assert ("beta", "sec\nrets.yml", "file") in g
PY

# --- bad input ---------------------------------------------------------------
expect_status 2 "$CKPTFS" search 'x['
grep -q "^ckptfs: search: pattern 'x\[': '\[' without its '\]'" "$T/stderr" || fail "malformed glob"
expect_status 2 "$CKPTFS" search
expect_status 2 "$CKPTFS" search --type q x
expect_status 2 "$CKPTFS" search --since 'not a time' x
expect_status 2 "$CKPTFS" search --project nosuch x
grep -q 'nosuch: no such project' "$T/stderr" || fail "unknown project"
echo ok
