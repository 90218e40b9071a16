#!/bin/bash
# A file whose bytes equal an encoded tree (and the reverse) is stored and
# restored as itself, in either walk order, through restore, the mount and
# check; repositories written by schema 1 (which deduplicated such blobs
# across types) keep working: read, deduplicate, and check --repair stores
# what they lack; a snapshot built on such a parent never inherits a
# reference to a blob of the wrong type.
. "$(dirname "$0")/lib.sh"
here=$(cd "$(dirname "$0")/../.." && pwd)
M=$T/mnt

check_ok() { ck check -q || fail "check: $*"; }

# --- both walk orders, in one repository and in fresh ones --------------------
# dir-first: "d" (an empty directory) is walked before the file "f";
# file-first: "a" is walked before "e".  Each is checked in its own fresh
# repository (the first blob of the pair written decides which side a
# schema-1 writer lost) and then both in one.
mk_dirfirst() { mkdir -p "$1/d"; printf '\x01\x00' >"$1/f"; echo note >"$1/n.txt"; }
mk_filefirst() { mkdir -p "$1/e" "$1/z"; printf '\x01\x00' >"$1/a"; head -c 70000 /dev/urandom >"$1/big"; }
for order in dirfirst filefirst; do
	export CKPTFS_REPO=$T/repo-$order
	P=$T/$order
	mk_$order "$P"
	ck snap -q "$P"
	check_ok "$order"
	rm -rf "$T/out"
	ck restore . --project "$order" --to "$T/out"
	same_tree "$P" "$T/out"
	for f in f a; do
		[ -e "$P/$f" ] || continue
		rm -f "$T/one"
		ck restore "$f" --project "$order" --to "$T/one"
		cmp "$T/one" "$P/$f" || fail "$order: restore $f differs"
	done
	mount_ckpt "$M"
	rm -rf "$T/cp"
	cp -a "$M/$order/latest/." "$T/cp" || fail "$order: cp -a out of the mount failed"
	same_tree "$P" "$T/cp"
	tar -C "$M/$order/latest" -cf - . >/dev/null || fail "$order: tar of the snapshot failed"
	ck umount "$M"
done

# --- this project's own fuzz corpus (seed-empty is an encoded empty tree) ------
export CKPTFS_REPO=$T/repo-corpus
P=$T/corpus
mkdir -p "$P"
cp -a "$here/tests/fuzz/corpus" "$P/"
mkdir -p "$P/corpus/empty-dir-1" "$P/corpus/x/empty-dir-2"
ck snap -q "$P"
check_ok "corpus"
ck restore . --project corpus --to "$T/out-corpus"
same_tree "$P" "$T/out-corpus"
mount_ckpt "$M"
diff -r "$P" "$M/corpus/latest" >/dev/null || fail "corpus: the mount differs from the source"
ck umount "$M"

# --- schema-1 repositories written by the previous release ---------------------
# tests/fixtures/repo-v1-*.tar.gz were made by ckptfs at dfd9e06 (schema 1),
# which kept one index row per id: in "tree-shadowed" the empty tree was
# stored only as a data chunk (files a and f came first), in
# "data-shadowed" the chunk of f only as a tree (directory d came first).
v1_case() { # name repo-dir project file-to-compare
	local name=$1 rdir=$2 proj=$3
	local X=$T/v1-$name
	mkdir -p "$X"
	tar -C "$X" -xzf "$here/tests/fixtures/repo-v1-$name.tar.gz"
	export CKPTFS_REPO=$X/$rdir
	# Readable at once, before any repair and read-only (no migration yet).
	ck log --project "$proj" >/dev/null
	rm -rf "$X/out"
	ck restore . --project "$proj" --to "$X/out"
	same_tree "$X/$proj" "$X/out"
	mount_ckpt "$M"
	diff -r "$X/$proj" "$M/$proj/latest" >/dev/null || fail "v1 $name: the mount differs"
	ck umount "$M"
	# check names what is missing, and that it is repairable.
	expect_status 1 "$CKPTFS" check
	grep -q "stored only as a" "$T/stdout" || { cat "$T/stdout"; fail "v1 $name: check did not name the shadowed blob"; }
	expect_status 1 "$CKPTFS" check --json
	python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["healthy"] is False and d["damaged_snapshots"] >= 1, d
assert any(f["level"] == "damage" and "stored only as a" in f["text"] for f in d["findings"]), d
' "$T/stdout" || fail "v1 $name: check --json does not report the shadowed blob"
	ck check --repair >"$X/repair.out"
	grep -q "stored again as a" "$X/repair.out" || { cat "$X/repair.out"; fail "v1 $name: repair did not store the blob again"; }
	check_ok "v1 $name after repair"
	[ "$(sqlite3 "$CKPTFS_REPO/catalog.db" "select value from meta where key='schema_version'")" = 3 ] ||
		fail "v1 $name: the catalog was not migrated"
	rm -rf "$X/out2"
	ck restore . --project "$proj" --to "$X/out2"
	same_tree "$X/$proj" "$X/out2"
	# Deduplication against what schema 1 wrote goes on: the same content
	# as another project stores only its trees.
	cp -a "$X/$proj" "$X/again"
	ck snap -q "$X/again"
	local newb
	newb=$("$CKPTFS" log --json --project again | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["new_bytes"])')
	[ "$newb" -lt 4096 ] || fail "v1 $name: a copy of known content stored $newb new bytes"
	check_ok "v1 $name after a new snapshot"
}
v1_case tree-shadowed repo proj
v1_case data-shadowed repo2 proj2

# --- a snapshot built on a schema-1 parent never inherits a bad reference -------
# Made here: a project is snapshotted, then its catalog is turned back into
# schema 1 as the previous release would have left it — one row per id,
# the data chunk of f lost to the tree with the same bytes.  The files
# cache would reuse f's chunk list unread; the next snapshot must notice
# the chunk is not held as data, read f again and store it.
export CKPTFS_REPO=$T/repo-legacy
P=$T/legacy
mk_dirfirst "$P"
sleep 0.5 # f older than the racy window before the snapshot: the files cache trusts it
ck snap -q "$P"
sqlite3 "$CKPTFS_REPO/catalog.db" <<'EOF' || fail "could not rewrite the catalog as schema 1"
BEGIN;
DROP TRIGGER snapshots_forgotten;
DROP TABLE forgotten;
DROP INDEX snapshots_trash;
ALTER TABLE snapshots DROP COLUMN trashed_at_ns;
ALTER TABLE snapshots DROP COLUMN expires_at_ns;
DELETE FROM blobs WHERE type = 1 AND id IN (SELECT id FROM blobs WHERE type = 2);
CREATE TABLE blobs1(id BLOB PRIMARY KEY CHECK(length(id) = 32), pack_id INTEGER NOT NULL REFERENCES packs(id), offset INTEGER NOT NULL, length INTEGER NOT NULL, raw_length INTEGER NOT NULL, type INTEGER NOT NULL, xxh INTEGER NOT NULL) WITHOUT ROWID;
INSERT INTO blobs1 SELECT id, pack_id, offset, length, raw_length, type, xxh FROM blobs;
DROP TABLE blobs;
ALTER TABLE blobs1 RENAME TO blobs;
CREATE INDEX blobs_pack ON blobs(pack_id);
UPDATE meta SET value = '1' WHERE key = 'schema_version';
DELETE FROM meta WHERE key = 'legacy_below';
COMMIT;
EOF
touch "$P/n.txt" # something changed, so a snapshot is taken with f unchanged
ck snap -q "$P"
reused=$("$CKPTFS" log --json --project legacy | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["read_bytes"])')
[ "$reused" -ge $(( $(stat -c %s "$P/n.txt") + $(stat -c %s "$P/f") )) ] || fail "legacy: f was not read again (read $reused bytes): its cached chunk list was trusted"
# The new snapshot is complete on its own: check finds only the parent's
# missing chunk (and repairs it), never the new snapshot's.
"$CKPTFS" check >"$T/legacy.check" 2>&1 || true
latest=$("$CKPTFS" log --project legacy --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["name"])')
grep "snapshot legacy/$latest:" "$T/legacy.check" && fail "the snapshot built on a schema-1 parent references a missing blob"
rm -f "$T/lf"
ck restore f --project legacy --from "$latest" --to "$T/lf"
cmp "$T/lf" "$P/f" || fail "legacy: f of the new snapshot differs"
ck check --repair -q
check_ok "legacy after repair"
echo ok
