#!/bin/bash
# gc on a long history (issue 10): GC_SNAPS snapshots (default 1,000) of a
# project of GC_FILES small files (default 30,000: 30 folders of 10 of
# GC_FILES/300), 20 of them changed before each snapshot, a GC_DB_MB SQLite
# database (default 64) changing page by page, a log growing by ~86 KiB
# and an asset of 2 MiB rewritten every 10th time.  Then the snapshots a
# retention policy does not keep are forgotten, the trash is emptied and
# gc runs:
#   forget's wall time; gc's wall and CPU time, peak RSS (target <= 100
#   MiB), MiB/s of live data rewritten (target >= 200 MiB/s); bytes
#   reclaimed against the stored bytes only the forgotten snapshots
#   referenced; the size after gc against the live bytes (what a fresh
#   repository of the kept snapshots holds: target within 10%).
# GC_BUILD=lib (the default): the history is written by
# tests/bench_gchist (BENCH_GCHIST_BIN) through the store's writer,
# snapshots an hour apart (1,000 in 19 min at load 11, not 45); forget uses the built-in
# policy (hourly for 24 h, daily for 30 days, ...).  GC_BUILD=snap: a real
# project and `ckptfs snap` each time (about 1.4 s a snapshot here, most
# of it the database capture: 45 min for 1,000); the snapshots are seconds
# apart, so all but every 24th and the newest 24 are forgotten by name,
# as hourly+daily would keep of hourly snapshots, and a fresh snap of the
# newest state is measured too.
# Run by `make bench-gc`.  GC_DIR (default: a temp dir in /var/tmp) holds
# everything; removed at the end unless BENCH_KEEP=1.  The history is
# saved in GC_DIR/history (before any forget) and reused when present, so
# gc can be measured again on the same history (GC_DIR=... BENCH_KEEP=1
# make bench-gc, twice).  GC_BUILD_ONLY=1 stops after building it.
# GC_COLD=1 drops the page cache before gc (see below).
set -euo pipefail
: "${CKPTFS:?set CKPTFS to the ckptfs binary}"
SNAPS=${GC_SNAPS:-1000}
FILES=${GC_FILES:-30000}
DB_MB=${GC_DB_MB:-64}
BUILD=${GC_BUILD:-lib}
[ "$BUILD" = lib ] && : "${BENCH_GCHIST_BIN:?set BENCH_GCHIST_BIN to tests/bench_gchist (or GC_BUILD=snap)}"
W=${GC_DIR:-$(mktemp -d /var/tmp/ckptfs-gcbench.XXXXXX)}
trap '[ "${BENCH_KEEP:-0}" = 1 ] || rm -rf "$W"' EXIT
export CKPTFS_REPO=$W/repo TZ=${TZ:-UTC} XDG_CONFIG_HOME=$W/config
command -v sqlite3 >/dev/null || { echo "bench-gc: needs sqlite3" >&2; exit 1; }
P=$W/proj
H=$W/history
mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }

build_lib() {
	echo "== $SNAPS snapshots by bench_gchist: $FILES files, a $DB_MB MiB database, a log, an asset"
	mkdir -p "$P"
	"$BENCH_GCHIST_BIN" "$CKPTFS_REPO" "$SNAPS" "$FILES" "$DB_MB"
}

build_snap() {
	echo "== a project of $FILES files, a $DB_MB MiB SQLite database, a log, an asset"
	per=$((FILES / 300))
	for a in $(seq -w 0 29); do
		for b in $(seq 0 9); do
			mkdir -p "$P/d$a/s$b"
			for c in $(seq 1 "$per"); do echo "file $a/$b/$c" >"$P/d$a/s$b/f$c.txt"; done
		done
	done
	rows=$((DB_MB * 1024 / 4)) # rows of ~4 KiB
	sqlite3 "$P/app.db" "PRAGMA page_size=4096; CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB);
		WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $rows)
		INSERT INTO t SELECT i, randomblob(4000) FROM n;"
	head -c $((2 << 20)) /dev/urandom >"$P/asset.bin"
	: >"$P/app.log"

	echo "== $SNAPS snapshots (20 files, 50 database rows and the log changed before each)"
	start=$(date +%s)
	for i in $(seq 1 "$SNAPS"); do
		for k in $(seq 1 20); do
			echo "change $i $k" >>"$P/d$(printf %02d $((RANDOM % 30)))/s$((RANDOM % 10))/f$((RANDOM % per + 1)).txt"
		done
		sqlite3 "$P/app.db" "UPDATE t SET v = randomblob(4000) WHERE id IN
			(SELECT abs(random()) % $rows + 1 FROM t LIMIT 50)"
		head -c 65536 /dev/urandom | base64 >>"$P/app.log"
		[ $((i % 10)) = 0 ] && head -c $((2 << 20)) /dev/urandom >"$P/asset.bin"
		"$CKPTFS" snap -q "$P" >/dev/null
		if [ $((i % 100)) = 0 ]; then echo "   $i snapshots ($(($(date +%s) - start)) s)"; fi
	done
	echo "   $SNAPS snapshots in $(($(date +%s) - start)) s"
}

if [ -d "$H/repo" ]; then
	echo "== reusing the history in $H"
else
	rm -rf "$P" "$CKPTFS_REPO"
	"build_$BUILD"
	mkdir -p "$H"
	cp -a "$P" "$H/proj"
	cp -a "$CKPTFS_REPO" "$H/repo"
fi
[ "${GC_BUILD_ONLY:-0}" = 1 ] && exit 0
rm -rf "$P" "$CKPTFS_REPO"
cp -a "$H/proj" "$P"
cp -a "$H/repo" "$CKPTFS_REPO"
sync
before=$(du -sb "$CKPTFS_REPO/packs" | awk '{print $1}')

proj=$(basename "$P")
if [ "$BUILD" = lib ]; then
	/usr/bin/time -f '%e %M' -o "$W/forget.txt" "$CKPTFS" forget -p "$proj" --policy >/dev/null
	how="by the built-in policy"
else
	# Keep every 24th and the newest 24: forget the rest by name (one
	# command, one transaction).
	names=$(sqlite3 "$CKPTFS_REPO/catalog.db" "SELECT name FROM snapshots ORDER BY time_ns")
	n=0 total=$(echo "$names" | wc -l) drop=()
	for name in $names; do
		n=$((n + 1))
		[ $((n % 24)) = 0 ] || [ "$n" -gt $((total - 24)) ] || drop+=("$name")
	done
	/usr/bin/time -f '%e %M' -o "$W/forget.txt" "$CKPTFS" forget -p "$proj" "${drop[@]}" >/dev/null
	how="by name"
fi
total=$(sqlite3 "$CKPTFS_REPO/catalog.db" "SELECT count(*) FROM snapshots")
/usr/bin/time -f '%e %M' -o "$W/empty.txt" "$CKPTFS" trash empty -p "$proj" >/dev/null
read -r fwall frss <"$W/forget.txt"
read -r ewall erss <"$W/empty.txt"
kept=$(sqlite3 "$CKPTFS_REPO/catalog.db" "SELECT count(*) FROM snapshots")
blobs=$(sqlite3 "$CKPTFS_REPO/catalog.db" "SELECT sum(length) FROM blobs")
echo "== forget $((total - kept)) of $total snapshots $how: ${fwall} s, peak RSS $((frss / 1024)) MiB;" \
	"trash empty ${ewall} s; $kept kept; packs $(mib "$before") MiB"

# What the dry run says: packs rewritten only because they hold a dead
# snapshot record (live share above the threshold).
"$CKPTFS" gc --dry-run --json >"$W/dry.json"
python3 - "$W/dry.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
forced = [a for a in d["actions"] if a["action"] == "repack" and a["live"] * 100 >= 50 * a["size"]]
print(f"   dry run: {len(forced)} packs rewritten only for a dead snapshot record "
      f"({sum(a['live'] for a in forced) / 1048576:.1f} MiB live in them)")
PY
# GC_COLD=1: the page cache is dropped first, so gc reads the packs and the
# catalog from the disk (by default they are warm from the copy above).
if [ "${GC_COLD:-0}" = 1 ]; then
	sync
	echo 3 >/proc/sys/vm/drop_caches || { echo "bench-gc: GC_COLD=1 needs a writable /proc/sys/vm/drop_caches" >&2; exit 1; }
	echo "   page cache dropped before gc"
fi
/usr/bin/time -f '%e %U %S %M' -o "$W/time.txt" "$CKPTFS" gc --json >"$W/gc.json"
read -r wall user sys rss <"$W/time.txt"
after=$(du -sb "$CKPTFS_REPO/packs" | awk '{print $1}')
python3 - "$W/gc.json" "$wall" "$user" "$sys" "$rss" "$blobs" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
wall, user, sys_, rss = float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
blobs = int(sys.argv[6])
mib = 1 << 20
rate = d["bytes_rewritten"] / mib / wall if wall else 0
print(f"   packs {d['packs']}: {d['packs_deleted']} deleted, {d['packs_repacked']} repacked into {d['packs_written']}")
print(f"   {d['bytes_before'] / mib:.1f} MiB -> {d['bytes_after'] / mib:.1f} MiB "
      f"(live {d['bytes_live'] / mib:.1f} MiB; after/live {d['bytes_after'] / max(d['bytes_live'], 1):.3f}, target <= 1.10)")
only = blobs - d["bytes_live"]
print(f"   reclaimed {d['bytes_freed'] / mib:.1f} MiB freed, {(d['bytes_before'] - d['bytes_after']) / mib:.1f} MiB net; "
      f"the forgotten snapshots alone referenced {only / mib:.1f} MiB of blobs")
print(f"   wall {wall:.2f} s, CPU {user + sys_:.2f} s; gc's own clock {d['seconds']:.2f} s")
ph = d["phase_seconds"]
rrate = d["bytes_rewritten"] / mib / ph["repack"] if ph["repack"] else 0
print(f"   phases: mark {ph['mark']:.2f} s, plan {ph['plan']:.2f} s, sweep {ph['sweep']:.2f} s, repack {ph['repack']:.2f} s")
print(f"   rewritten {d['bytes_rewritten'] / mib:.1f} MiB at {rate:.0f} MiB/s of gc's wall time, "
      f"{rrate:.0f} MiB/s in the repack phase (target >= 200)")
print(f"   peak RSS {rss / 1024:.1f} MiB (target <= 100); mark set {d['mark_set_bytes'] / mib:.1f} MiB "
      f"for {d['live_ids']} ids, {d['trees']} trees of {d['snapshots']} snapshots")
PY
echo "   packs on disk after gc $(mib "$after") MiB"
if [ "$BUILD" = snap ]; then
	# A fresh repository of the newest state alone, for scale.
	CKPTFS_REPO=$W/fresh "$CKPTFS" snap -q "$P" >/dev/null
	fresh=$(du -sb "$W/fresh/packs" | awk '{print $1}')
	echo "   a fresh snap of the newest state: $(mib "$fresh") MiB"
fi
"$CKPTFS" check -q >/dev/null && echo "   check: no problems"
