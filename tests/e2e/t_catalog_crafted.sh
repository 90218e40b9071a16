#!/bin/bash
# t_catalog_crafted.sh — a catalog.db edited with the sqlite3 shell: projects
# named "bad/name", "" and "..", a project whose root is not a path,
# snapshots named "../../x", "latest" and "", a status of 99, negative
# counts, a snapshot of a project that does not exist, a snapshot of an
# invalid project.  log, show, projects, restore and the mount leave those
# rows out (one warning line says so) and keep serving the good ones; no
# link in the mount points outside it; check names each row, exits 1;
# check --repair quarantines or fixes each and exits 0; then everything is
# clean again and the quarantine is kept.
. "$(dirname "$0")/lib.sh"
command -v sqlite3 >/dev/null || skip "no sqlite3 shell"

P=$T/app Q=$T/other
mkdir -p "$P" "$Q"
echo one >"$P/a.txt"
echo other >"$Q/b.txt"
(cd "$P" && ck snap -q -t v1 && echo two >>a.txt && ck snap -q -m two)
ck snap -q "$Q"
good_latest=$("$CKPTFS" log -p app -n 1 | awk '{print $1}')
good_first=$("$CKPTFS" log -p app | tail -n 1 | awk '{print $1}')
app_id=$(sqlite3 "$CKPTFS_REPO/catalog.db" "SELECT id FROM projects WHERE name = 'app'")

# copy_snap PROJECT_ID NAME_SQL SECONDS_LATER STATUS FILES TAG_SQL
copy_snap() {
	sqlite3 "$CKPTFS_REPO/catalog.db" "INSERT INTO snapshots(project_id, name, time_ns, tag, root,
		status, files, dirs, bytes, new_blobs, new_bytes, read_bytes, duration_ns)
		SELECT $1, $2, time_ns + $3 * 1000000000, $6, root, $4, $5, 1, 1, 0, 0, 0, 0
		FROM snapshots WHERE project_id = $app_id ORDER BY id LIMIT 1"
}
sqlite3 "$CKPTFS_REPO/catalog.db" "INSERT INTO projects(id, name, root, created_ns) VALUES
	(50, 'bad/name', '$T/bad', 1), (51, '', '$T/empty', 1), (52, '..', '$T/dots', 1),
	(53, 'relroot', 'not/absolute', 1)"
# All newer than the good snapshots: a newest-first LIMIT 1 would pick them.
copy_snap "$app_id" "'../../x'" 1000 0 1 "'v1'"
copy_snap "$app_id" "'latest'" 2000 0 1 NULL
copy_snap "$app_id" "''" 3000 0 1 NULL
copy_snap "$app_id" "'2030-01-01T00:00'" 4000 99 1 NULL
copy_snap "$app_id" "'2030-01-02T00:00'" 5000 0 -7 NULL
copy_snap 999 "'2030-01-03T00:00'" 6000 0 1 NULL
copy_snap 50 "'2030-01-04T00:00'" 7000 0 1 NULL
copy_snap 51 "'../x'" 7000 0 1 NULL
cp -a "$CKPTFS_REPO" "$T/crafted"

WARN='^ckptfs: warning: invalid catalog rows were skipped \(ckptfs check lists them, ckptfs check --repair quarantines or fixes them\)$'
# ok_warned CMD...: exit 0, exactly the warning on stderr.
ok_warned() {
	expect_status 0 "$@"
	[ "$(wc -l <"$T/stderr")" = 1 ] && grep -Eq "$WARN" "$T/stderr" || fail "$*: stderr '$(cat "$T/stderr")'"
}

# --- log, show, projects ----------------------------------------------------------
cd "$P"
ok_warned "$CKPTFS" log
[ "$(awk '{print $1}' "$T/stdout" | tr '\n' ' ')" = "$good_latest $good_first " ] || fail "log: $(cat "$T/stdout")"
ok_warned "$CKPTFS" log --json
python3 -c 'import json,sys; l=json.load(open(sys.argv[1])); assert [s["name"] for s in l] == sys.argv[2:], l' \
	"$T/stdout" "$good_latest" "$good_first" || fail "log --json"
for w in "" latest now "2031-01-01" "2029-12-31T23:59"; do
	ok_warned "$CKPTFS" show ${w:+"$w"}
	grep -q "^snapshot   app $good_latest\$" "$T/stdout" || fail "show '$w': $(head -1 "$T/stdout")"
done
ok_warned "$CKPTFS" show v1
grep -q "^snapshot   app $good_first\$" "$T/stdout" || fail "show v1 picked a crafted row: $(head -1 "$T/stdout")"
expect_status 1 "$CKPTFS" show "../../x"
! grep -q "^snapshot" "$T/stdout" || fail "show ../../x showed a crafted row"
# Names of crafted rows are read as times: the newest good snapshot before.
for w in "2030-01-01T00:00" "2030-01-02T00:00"; do
	ok_warned "$CKPTFS" show "$w"
	grep -q "^snapshot   app $good_latest\$" "$T/stdout" || fail "show '$w': $(head -1 "$T/stdout")"
done
ok_warned "$CKPTFS" projects --json
python3 -c 'import json,sys; l=json.load(open(sys.argv[1])); assert [p["name"] for p in l] == ["app", "other"], l' \
	"$T/stdout" || fail "projects: $(cat "$T/stdout")"
expect_status 0 "$CKPTFS" log -p other  # no invalid row on its way: no warning
[ ! -s "$T/stderr" ] || fail "log -p other warned"

# --- restore ------------------------------------------------------------------------
ok_warned "$CKPTFS" restore --to "$T/r1" a.txt
[ "$(cat "$T/r1")" = "$(printf 'one\ntwo')" ] || fail "restore of latest: $(cat "$T/r1")"
expect_status 1 "$CKPTFS" restore --from "../../x" --to "$T/r2" a.txt
[ ! -e "$T/r2" ] && [ ! -e "$T/x" ] || fail "restore --from ../../x wrote something"
ok_warned "$CKPTFS" restore --from v1 --to "$T/r3" a.txt
[ "$(cat "$T/r3")" = one ] || fail "restore --from v1"
# A crafted project's root is never restored into.
expect_status 1 "$CKPTFS" restore --project relroot .
[ ! -e "$P/not" ] && [ ! -e "$T/not" ] || fail "restored into a crafted root"

# --- the mount ------------------------------------------------------------------------
if [ -e /dev/fuse ] && command -v fusermount3 >/dev/null; then
	M=$T/mnt
	mkdir -p "$M"
	_mounts+=("$M")
	"$CKPTFS" mount "$M" 2>"$T/mount.err" || { cat "$T/mount.err"; fail "mount"; }
	grep -Eq "$WARN" "$T/mount.err" || fail "mount did not flag the invalid rows: $(cat "$T/mount.err")"
	[ "$(ls "$M" | tr '\n' ' ')" = "app other " ] || fail "mount top level: $(ls -a "$M")"
	[ "$(ls "$M/app" | tr '\n' ' ')" = "$good_first $good_latest @tags @versions latest " ] ||
		fail "mount app: $(ls -a "$M/app")"
	[ "$(readlink "$M/app/latest")" = "$good_latest" ] || fail "latest -> $(readlink "$M/app/latest")"
	[ "$(readlink "$M/app/@tags/v1")" = "../$good_first" ] || fail "@tags/v1 -> $(readlink "$M/app/@tags/v1")"
	[ "$(cat "$M/app/latest/a.txt")" = "$(printf 'one\ntwo')" ] || fail "reading through latest"
	[ "$(cat "$M/other/latest/b.txt")" = other ] || fail "reading other"
	for n in app/2030-01-01T00:00 app/2030-01-02T00:00 bad bad_name relroot empty dots; do
		[ ! -e "$M/$n" ] || fail "$n exists in the mount"
	done
	# No symlink anywhere in the mount resolves outside it.
	real_m=$(realpath "$M")
	while IFS= read -r -d '' l; do
		t=$(realpath -m "$l")
		case "$t" in "$real_m"/*) ;; *) fail "$l -> $(readlink "$l") leaves the mount" ;; esac
	done < <(find "$M" -maxdepth 3 -type l -print0)
	ck umount "$M"
fi

# --- check and check --repair ---------------------------------------------------------------
expect_status 1 "$CKPTFS" check
cat "$T/stdout"
for re in 'project 50 "bad/name" .*: invalid project name$' 'project 51 "" .*: invalid project name$' \
	'project 52 "\.\." .*: invalid project name$' 'project 53 "relroot" \(not/absolute\): root is not' \
	'snapshot [0-9]+ "\.\./\.\./x" of project app .*: invalid snapshot name$' \
	'snapshot [0-9]+ "latest" of project app .*: invalid snapshot name$' \
	'snapshot [0-9]+ "" of project app .*: invalid snapshot name$' \
	'snapshot [0-9]+ "2030-01-01T00:00" of project app .*: invalid status$' \
	'snapshot [0-9]+ "2030-01-02T00:00" of project app .*: negative counts$' \
	'snapshot [0-9]+ "2030-01-03T00:00" of project \(none\) \(999\): its project does not exist$' \
	'snapshot [0-9]+ "\.\./x" of project  \(51\): invalid snapshot name$'; do
	grep -Eq "^damaged: catalog: $re" "$T/stdout" || fail "check did not report /$re/"
done
# The snapshot of "bad/name" is reported (and repaired) with its project.
[ "$(grep -c '^damaged: catalog: ' "$T/stdout")" = 11 ] || fail "check: want 11 invalid rows reported"
grep -q '^DAMAGED: .*; 11 invalid catalog rows$' "$T/stdout" || fail "check summary"

expect_status 0 "$CKPTFS" check --repair
cat "$T/stdout"
grep -q '^repair: catalog: project 50 "bad/name" .*; renamed to bad_name$' "$T/stdout" || fail "repair: bad/name"
grep -q '^repair: catalog: project 51 "" .*; renamed to empty$' "$T/stdout" || fail "repair: empty name"
grep -q '^repair: catalog: project 52 "\.\." .*; renamed to dots$' "$T/stdout" || fail "repair: .."
grep -q '^repair: catalog: project 53 "relroot" .*; quarantined with its snapshots$' "$T/stdout" || fail "repair: relroot"
grep -q '^repair: catalog: snapshot app/2030-01-01T00:00: invalid status; fixed (marked damaged' "$T/stdout" || fail "repair: status"
grep -q '^repair: catalog: snapshot app/2030-01-02T00:00: negative counts; fixed (counts set to 0)$' "$T/stdout" || fail "repair: counts"
[ "$(grep -c '; quarantined$' "$T/stdout")" = 5 ] || fail "repair: want 5 snapshots quarantined"
grep -q '^repair: 11 invalid catalog rows: 6 quarantined, 5 fixed$' "$T/stdout" || fail "repair summary"
grep -q '^no problems found$' "$T/stdout" || fail "repair did not end healthy"

# Clean now: no warnings, check healthy (the quarantine is a notice), the
# repaired rows usable and the good ones untouched.
expect_status 0 "$CKPTFS" check
grep -q '^notice: catalog: 6 rows kept in quarantine (table quarantine of catalog.db)$' "$T/stdout" ||
	fail "quarantine notice: $(cat "$T/stdout")"
expect_status 0 "$CKPTFS" log
[ ! -s "$T/stderr" ] || fail "log still warns: $(cat "$T/stderr")"
grep -q '^2030-01-01T00:00 .*damaged' "$T/stdout" || fail "status row not fixed: $(cat "$T/stdout")"
grep -q "^$good_latest " "$T/stdout" && grep -q "^$good_first " "$T/stdout" || fail "good rows lost"
expect_status 0 "$CKPTFS" projects --json
python3 -c 'import json,sys; l=json.load(open(sys.argv[1])); assert [p["name"] for p in l] == ["app", "bad_name", "dots", "empty", "other"], l' \
	"$T/stdout" || fail "projects after repair: $(cat "$T/stdout")"
[ "$(sqlite3 "$CKPTFS_REPO/catalog.db" "SELECT count(*) FROM quarantine WHERE row LIKE '%../../x%'")" = 1 ] ||
	fail "the quarantine lost ../../x"
ck restore --from "$good_latest" --to "$T/r4" a.txt
[ "$(cat "$T/r4")" = "$(printf 'one\ntwo')" ] || fail "restore after repair"
# The fixed rows are snapshots now (copies of the first one, in this test).
ck restore --from 2030-01-02T00:00 --to "$T/r6" a.txt
[ "$(cat "$T/r6")" = one ] || fail "restore of a fixed row"

# A repair that loses a real snapshot's name re-creates it from its record.
rm -rf "$CKPTFS_REPO" && cp -a "$T/crafted" "$CKPTFS_REPO"
sqlite3 "$CKPTFS_REPO/catalog.db" "UPDATE snapshots SET name = '../../x2' WHERE name = '$good_first' AND project_id = $app_id"
expect_status 0 "$CKPTFS" check --repair
grep -q '^repair: snapshot app/.*: re-created from its record$' "$T/stdout" || fail "no re-creation: $(cat "$T/stdout")"
ck restore --from v1 --to "$T/r5" a.txt
[ "$(cat "$T/r5")" = one ] || fail "the re-created snapshot does not restore"
echo ok
