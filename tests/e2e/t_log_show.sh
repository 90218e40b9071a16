#!/bin/bash
# log, projects and show, as text and as JSON; WHEN forms; the files cache.
. "$(dirname "$0")/lib.sh"

json_ok() { python3 -m json.tool "$1" >/dev/null || { cat "$1" >&2; fail "$1 is not valid JSON"; }; }

P=$T/myapp
mkdir -p "$P/src"
for i in $(seq 1 20); do printf 'line %d\n' "$i" >"$P/src/f$i.c"; done
printf 'gone\n' >"$P/old.txt"
printf 'v1\n' >"$P/changing.txt"
cd "$P"

ck snap -m "first one" -t v1 >/dev/null
sleep 1.1 # different names (minute, then :SS)
printf 'v2\n' >changing.txt
rm old.txt
printf 'new\n' >"src/new file.c"
printf 'weird\n' >$'src/bad\xffname'
ck snap -m $'second\none' >/dev/null

# --- log ---------------------------------------------------------------------
ck log >"$T/log.txt"
cat "$T/log.txt"
[ "$(wc -l <"$T/log.txt")" = 2 ] || fail "log: want 2 lines"
head -1 "$T/log.txt" | grep -q 'second\\none$' || fail "log: newest first, message on one line"
tail -1 "$T/log.txt" | grep -q '\[v1\]  first one$' || fail "log: tag and message"
grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]+ +[0-9,]+ files +[0-9.]+ [KMG]?i?B +\+' "$T/log.txt" ||
	fail "log: columns"
ck log -n 1 >"$T/log1.txt"
[ "$(wc -l <"$T/log1.txt")" = 1 ] || fail "log -n 1"
ck log --json >"$T/log.json"
json_ok "$T/log.json"
python3 - "$T/log.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
assert len(s) == 2, s
assert s[0]["message"] == "second\none" and s[1]["message"] == "first one", s
assert s[1]["tag"] == "v1" and s[0]["tag"] is None, s
assert s[0]["status"] == "complete" and s[0]["project"] == "myapp", s
assert s[0]["time_ns"] > s[1]["time_ns"], s
for k in ("files", "dirs", "bytes", "new_bytes", "read_bytes", "duration_ns", "root", "name"):
    assert k in s[0], k
PY
# from elsewhere, by DIR or by name
(cd / && ck log "$P/src" >"$T/log2.txt")
cmp "$T/log.txt" "$T/log2.txt" || fail "log DIR"
(cd / && ck log --project myapp >"$T/log3.txt")
cmp "$T/log.txt" "$T/log3.txt" || fail "log --project"

# --- projects ----------------------------------------------------------------
ck projects >"$T/projects.txt"
cat "$T/projects.txt"
grep -Eq '^PROJECT +SNAPSHOTS +LAST +ROOT$' "$T/projects.txt" || fail "projects header"
grep -Eq "^myapp +2 +(just now|[0-9]+ s ago) +$P\$" "$T/projects.txt" || fail "projects row"
ck projects --json >"$T/projects.json"
json_ok "$T/projects.json"
python3 - "$T/projects.json" "$P" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
assert len(p) == 1 and p[0]["name"] == "myapp" and p[0]["root"] == sys.argv[2], p
assert p[0]["snapshots"] == 2 and p[0]["last"].endswith("Z"), p
PY

# --- show ----------------------------------------------------------------------
ck show >"$T/show.txt"
cat "$T/show.txt"
grep -q '^snapshot   myapp ' "$T/show.txt" || fail "show: header"
grep -q '^message    second\\none$' "$T/show.txt" || fail "show: message"
grep -q '^status     complete$' "$T/show.txt" || fail "show: status"
grep -q '^changes since .*: 2 added, 1 modified, 1 deleted$' "$T/show.txt" || fail "show: change counts"
grep -q '^  M changing.txt$' "$T/show.txt" || fail "show: M"
grep -q '^  D old.txt$' "$T/show.txt" || fail "show: D"
grep -q '^  A src/new file.c$' "$T/show.txt" || fail "show: A"
grep -q '^  A src/bad\\xffname$' "$T/show.txt" || fail "show: odd name escaped"
ck show --json >"$T/show.json"
json_ok "$T/show.json"
python3 - "$T/show.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
c = s["changes"]
assert (c["added"], c["modified"], c["deleted"]) == (2, 1, 1), c
paths = {p["path"]: p["kind"] for p in c["paths"]}
assert paths.get("changing.txt") == "M" and paths.get("old.txt") == "D", paths
assert paths.get("src/bad\udcffname") == "A", paths  # surrogateescape
assert s["snapshot"]["message"] == "second\none"
PY
# the first snapshot: by tag, by name, by time; it has no predecessor
first=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[1]["name"])' "$T/log.json")
for w in v1 "$first"; do
	ck show "$w" >"$T/show1.txt"
	grep -q "^snapshot   myapp $first\$" "$T/show1.txt" || fail "show $w"
	grep -q '^first snapshot of myapp$' "$T/show1.txt" || fail "show $w: first"
done
ck show --json v1 | python3 -c 'import json,sys; assert json.load(sys.stdin)["changes"] is None'
for w in now today "0 min ago" latest "$(date +%Y-%m-%d)" "$(date -d '+1 min' +%Y-%m-%dT%H:%M)"; do
	ck show --json "$w" | python3 -c 'import json,sys; assert json.load(sys.stdin)["snapshot"]["message"] == "second\none"' ||
		fail "show '$w' is not the latest"
done
expect_status 1 "$CKPTFS" show "1 year ago"
grep -q "^ckptfs: myapp: no snapshot at or before .* ('1 year ago')\$" "$T/stderr" || fail "show 1 year ago: $(cat "$T/stderr")"
# times past what ckptfs holds: one line, never a wrapped time that selects
for w in 9999-12-31 5000-01-01 "2263-01-01T10:00" 1969-12-31 "99999999999d ago" \
	"99999999999999999999999 s ago" "1000000 years ago"; do
	expect_status 1 "$CKPTFS" show "$w"
	[ "$(wc -l <"$T/stderr")" = 1 ] && [ ! -s "$T/stdout" ] || fail "show '$w': $(cat "$T/stderr" "$T/stdout")"
	grep -q "^ckptfs: myapp: time '$w' is out of range (ckptfs keeps times from 1970-01-01 to 2262-04-11)\$" \
		"$T/stderr" || fail "show '$w': $(cat "$T/stderr")"
	expect_status 1 "$CKPTFS" restore --from "$w" --to "$T/never" .
	grep -q "out of range" "$T/stderr" && [ ! -e "$T/never" ] || fail "restore --from '$w': $(cat "$T/stderr")"
done

# --- the files cache: an unchanged project is not read ------------------------
ck snap -q
ck snap -q
ck show --json | python3 -c '
import json, sys
s = json.load(sys.stdin)["snapshot"]
assert s["read_bytes"] == 0, s
assert s["new_bytes"] < 4096, s'
# --- notes for people: databases and warnings, never the raw JSON -----------
# A database and a path that cannot be read (as nobody: root reads
# everything), with a name that is not UTF-8 — which the notes must carry
# without becoming unreadable.
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	chmod 755 "$T"
	N=$T/noted
	mkdir -m 777 "$N"
	python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute("CREATE TABLE t(x)"); c.executemany("INSERT INTO t VALUES (?)", [(1,),(2,)]); c.commit()' "$N/app.db"
	chmod 666 "$N/app.db"
	printf 'secret\n' >"$N/"$'closed\xff.txt'
	chmod 000 "$N/"$'closed\xff.txt'
	# A temp dir nobody can write to for the database copy (the caller's
	# $TMPDIR may be root's own, 0755: the capture failed there).
	mkdir -m 1777 "$T/tmp-nobody"
	asnobody() { setpriv --reuid=65534 --regid=65534 --clear-groups env CKPTFS_REPO="$N/repo" TMPDIR="$T/tmp-nobody" "$CKPTFS" "$@"; }
	(cd "$N" && expect_status 3 asnobody snap)
	grep -q '^  sqlite    app.db  ok (integrity_check; 1 table, 2 rows)$' "$T/stdout" ||
		{ cat "$T/stdout"; fail "snap: the database line"; }
	(cd "$N" && expect_status 0 asnobody show)
	cat "$T/stdout"
	sed -n '/^databases$/,/^warnings$/p' "$T/stdout" | grep -q '^  sqlite    app.db  ok (integrity_check; 1 table, 2 rows)$' ||
		fail "show: no databases section with the database"
	sed -n '/^warnings$/,$p' "$T/stdout" | grep -q '^  closed\\xff.txt: cannot open: Permission denied$' ||
		fail "show: no warnings section with the unreadable path"
	! grep -Eq '^notes|[{}]|"databases"|"warnings"|notes unreadable' "$T/stdout" || fail "show: raw notes JSON"
	(cd "$N" && asnobody show --json) | python3 -c '
import json, sys
n = json.load(sys.stdin)["snapshot"]["notes"]
assert n["warnings"] == 1 and n["paths"][0]["path"] == "closed\udcff.txt", n
assert n["databases"][0]["name"] == "app.db" and n["databases"][0]["ok"], n' || fail "show --json: notes"
fi
echo ok
