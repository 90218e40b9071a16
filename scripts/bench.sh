#!/bin/bash
# make bench: speed and size figures of ckptfs on a generated project.
#
#   1. generate a ~30,000-file, ~1 GiB project (bench/gen-tree.c, fixed seed)
#   2. first snapshot, and `restic backup` of the same tree for comparison
#   3. a snapshot with nothing changed: time, and proof no content was read
#      (the snapshot's read_bytes, and an strace count of bytes read from
#      files of the project during a second such snapshot)
#   4. a snapshot after editing 20 files
#   5. 100 snapshots, one file changed before each: repository growth
#
# Both tools run with a warm page cache (the tree was just written), one
# after the other.  BENCH_DIR (default: a temp dir in /var/tmp) holds
# everything and is removed at the end unless BENCH_KEEP=1.  BENCH_FILES and
# BENCH_MIB change the tree's size; BENCH_HISTORY the number of snapshots
# in step 5.
set -euo pipefail
: "${CKPTFS:?set CKPTFS to the ckptfs binary}"
here=$(cd "$(dirname "$0")/.." && pwd)
FILES=${BENCH_FILES:-30000}
MIB=${BENCH_MIB:-1024}
HISTORY=${BENCH_HISTORY:-100}
W=${BENCH_DIR:-$(mktemp -d /var/tmp/ckptfs-bench.XXXXXX)}
mkdir -p "$W"
cleanup() { [ "${BENCH_KEEP:-0}" = 1 ] || rm -rf "$W"; }
trap cleanup EXIT
export CKPTFS_REPO=$W/repo
TREE=$W/project
export TZ=${TZ:-UTC}

now() { date +%s%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b - a) / 1e9 }'; }
mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }
kib() { awk -v b="$1" 'BEGIN { printf "%.1f KiB", b / 1024 }'; }
field() { "$CKPTFS" show --project project --json | python3 -c "import json,sys; print(json.load(sys.stdin)['snapshot']['$1'])"; }
dirbytes() { du -sb --apparent-size "$@" 2>/dev/null | awk '{ s += $1 } END { print s + 0 }'; }

echo "== building the tree generator"
mkdir -p "$here/build/bench"
cc -O2 -Wall -o "$here/build/bench/gen-tree" "$here/bench/gen-tree.c" -lm
echo "== generating $FILES files, $MIB MiB in $TREE"
t0=$(now)
"$here/build/bench/gen-tree" -n "$FILES" -s "$MIB" "$TREE"
echo "   ($(secs "$t0" "$(now)") s)"
sync

echo "== first snapshot"
t0=$(now)
"$CKPTFS" snap -q "$TREE"
first=$(secs "$t0" "$(now)")
first_new=$(field new_bytes)
echo "   ckptfs snap: $first s, stored $(mib "$first_new")"

echo "== restic backup of the same tree"
export RESTIC_PASSWORD=bench RESTIC_REPOSITORY=$W/restic
restic init -q >/dev/null
t0=$(now)
restic backup -q "$TREE" >/dev/null
restic_t=$(secs "$t0" "$(now)")
restic_size=$(dirbytes "$W/restic")
echo "   restic backup: $restic_t s, stored $(mib "$restic_size")"
ratio=$(awk -v a="$restic_t" -v b="$first" 'BEGIN { printf "%.2f", a / b }')

echo "== nothing changed"
"$CKPTFS" snap -q "$TREE" # settles files whose ctime was too close to the first snapshot
t0=$(now)
"$CKPTFS" snap -q "$TREE"
noop=$(secs "$t0" "$(now)")
noop_read=$(field read_bytes)
# Independent proof: every byte read(2) from a file inside the project.
strace -f -qq -y -e trace=read,pread64,readv,preadv,preadv2 -o "$W/strace.txt" \
	"$CKPTFS" snap -q "$TREE"
strace_read=$(awk -v t="$TREE/" 'index($0, "<" t) && $NF ~ /^[0-9]+$/ { s += $NF } END { print s + 0 }' "$W/strace.txt")
strace_calls=$(awk -v t="$TREE/" 'index($0, "<" t)' "$W/strace.txt" | wc -l)
# Control: the same accounting does see the reads of the repository.
strace_repo=$(awk -v t="$CKPTFS_REPO/" 'index($0, "<" t)' "$W/strace.txt" | wc -l)
[ "$strace_repo" -gt 0 ] || { echo "bench: strace saw no reads at all; the count proves nothing" >&2; exit 1; }
echo "   $noop s, read_bytes $noop_read; under strace: $strace_read bytes in $strace_calls reads of project files ($strace_repo reads of repository files)"

echo "== 20 files edited"
# (awk, not head: an early close would SIGPIPE the pipeline under pipefail)
find "$TREE/src" -type f -name '*.c' | LC_ALL=C sort | awk 'NR % 37 == 1 && ++k <= 20' >"$W/edit.txt"
edited=0
while IFS= read -r f; do
	printf '// edited for the benchmark\n' >>"$f"
	edited=$((edited + $(stat -c %s "$f")))
done <"$W/edit.txt"
t0=$(now)
"$CKPTFS" snap -q "$TREE"
edit20=$(secs "$t0" "$(now)")
edit_read=$(field read_bytes)
edit_new=$(field new_bytes)
echo "   $edit20 s, read $(kib "$edit_read") of $(kib "$edited") edited, stored $(kib "$edit_new")"

echo "== $HISTORY snapshots, one file changed before each"
find "$TREE" -type f -size -16k -name '*.py' | LC_ALL=C sort | awk -v n="$HISTORY" 'NR <= n' >"$W/hist.txt"
[ "$(wc -l <"$W/hist.txt")" = "$HISTORY" ] || { echo "bench: not enough files for the history" >&2; exit 1; }
packs0=$(dirbytes "$CKPTFS_REPO/packs")
cat0=$(dirbytes "$CKPTFS_REPO"/catalog.db*)
changed=0
t0=$(now)
i=0
while IFS= read -r f; do
	i=$((i + 1))
	printf 'change %d\n' "$i" >>"$f"
	changed=$((changed + $(stat -c %s "$f")))
	"$CKPTFS" snap -q "$TREE"
done <"$W/hist.txt"
hist_t=$(secs "$t0" "$(now)")
packs1=$(dirbytes "$CKPTFS_REPO/packs")
cat1=$(dirbytes "$CKPTFS_REPO"/catalog.db*)
per_pack=$(((packs1 - packs0) / HISTORY))
per_cat=$(((cat1 - cat0) / HISTORY))
per_changed=$((changed / HISTORY))
echo "   $hist_t s in all"

ckptfs_size=$(dirbytes "$CKPTFS_REPO")
pass() { awk -v v="$1" -v lim="$2" 'BEGIN { print (v + 0 <= lim + 0) ? "ok" : "SLOW" }'; }
cat <<TABLE

ckptfs bench: $FILES files, $(mib "$(dirbytes "$TREE")") ($(uname -r), $(nproc) CPUs, warm cache)
----------------------------------------------------------------------------------
first snapshot             ckptfs $first s        restic $restic_t s   restic/ckptfs $ratio (want >= 1)
  stored                   ckptfs $(mib "$first_new")   restic $(mib "$restic_size")
nothing changed            $noop s  ($(pass "$noop" 0.3) < 0.3 s)   read_bytes $noop_read, strace: $strace_read bytes from project files
20 files edited            $edit20 s  ($(pass "$edit20" 0.5) < 0.5 s)   read $(kib "$edit_read"), stored $(kib "$edit_new")
$HISTORY snapshots x 1 file    per snapshot: packs +$(kib "$per_pack"), catalog +$(kib "$per_cat"); changed file $(kib "$per_changed")
repository in the end      $(mib "$ckptfs_size")
TABLE

# Databases: a 200 MiB SQLite database with 1% of its rows changed.
echo
"$here/scripts/bench-db.sh"
