#!/bin/bash
# The figures issue 11 asks for, on a generated ~30,000-file project
# (bench/gen-tree.c, fixed seed, AUTO_MIB MiB, default 256):
#
#   1. run: time from `ckptfs run` starting to CMD starting, on an
#      unchanged project (median and max of AUTO_RUNS, default 10)
#   2. watch: recovery-point lag — from the last write of a burst (20 files
#      edited over ~0.2 s) to the snapshot holding it committed (its summary
#      line printed) — median and max over AUTO_BURSTS bursts (default 50),
#      with --quiet AUTO_QUIET (default 10)
#   3. watch: CPU used while idle over AUTO_IDLE seconds (default 600)
#
#   CKPTFS=./ckptfs scripts/bench-auto.sh
set -euo pipefail
: "${CKPTFS:?set CKPTFS to the ckptfs binary}"
# The runs below start in the project: a relative CKPTFS must still work.
case $CKPTFS in */*) CKPTFS=$(cd "$(dirname "$CKPTFS")" && pwd)/$(basename "$CKPTFS") ;; esac
here=$(cd "$(dirname "$0")/.." && pwd)
FILES=${AUTO_FILES:-30000} MIB=${AUTO_MIB:-256} RUNS=${AUTO_RUNS:-10}
BURSTS=${AUTO_BURSTS:-50} QUIET=${AUTO_QUIET:-10} IDLE=${AUTO_IDLE:-600}
W=$(mktemp -d /var/tmp/ckptfs-auto.XXXXXX)
wpid=
cleanup() { [ -n "$wpid" ] && kill "$wpid" 2>/dev/null; wait 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT
export CKPTFS_REPO=$W/repo TZ=UTC
TREE=$W/project
now() { date +%s%N; }
stats() { sort -n | awk '{ v[NR] = $1 } END { printf "median %.3f s, max %.3f s (n=%d)\n", (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2), v[NR], NR }'; }

mkdir -p "$here/build/bench"
cc -O2 -Wall -o "$here/build/bench/gen-tree" "$here/bench/gen-tree.c" -lm
"$here/build/bench/gen-tree" -n "$FILES" -s "$MIB" "$TREE"
nfiles=$(find "$TREE" -type f | wc -l)
echo "project: $nfiles files, $(du -sh "$TREE" | cut -f1); nproc $(nproc); load $(cut -d' ' -f1-3 /proc/loadavg)"
"$CKPTFS" snap -q "$TREE"

echo "== run: snapshot overhead before CMD starts (unchanged project)"
cd "$TREE"
# Wall time, and the CPU time (user + system) ckptfs used: on a busy
# machine the wall time is mostly waiting for a CPU; the CPU time is what
# an idle one would take, less the few fsyncs of the commit.
for i in $(seq "$RUNS"); do
	t0=$(now)
	/usr/bin/time -f '%U %S' -o "$W/cpu" "$CKPTFS" run -q -- sh -c 'date +%s%N' >"$W/t1"
	awk -v a="$t0" -v b="$(cat "$W/t1")" 'BEGIN { printf "%.4f\n", (b - a) / 1e9 }' >>"$W/walls"
	awk '{ printf "%.4f\n", $1 + $2 }' "$W/cpu" >>"$W/cpus"
done
echo "   wall: $(stats <"$W/walls")"
echo "   CPU:  $(stats <"$W/cpus")"

echo "== watch: recovery-point lag, --quiet $QUIET, $BURSTS bursts"
"$CKPTFS" watch --quiet "$QUIET" >"$W/watch.log" 2>&1 &
wpid=$!
until grep -q '^watching ' "$W/watch.log"; do sleep 0.05; done
mapfile -t files < <(find "$TREE" -type f -name '*' | head -2000)
for b in $(seq "$BURSTS"); do
	seen=$(grep -c '^project ' "$W/watch.log" || true)
	for k in $(seq 20); do
		printf 'burst %s edit %s\n' "$b" "$k" >>"${files[$(( (b * 37 + k * 101) % ${#files[@]} ))]}"
		sleep 0.01
	done
	tlast=$(now)
	until [ "$(grep -c '^project ' "$W/watch.log" || true)" -gt "$seen" ]; do sleep 0.01; done
	awk -v a="$tlast" -v b="$(now)" 'BEGIN { printf "%.4f\n", (b - a) / 1e9 }'
	sleep 0.5
done | tee "$W/lags" | stats
grep -q 'ckptfs:' "$W/watch.log" && { echo "watch printed problems:"; grep 'ckptfs:' "$W/watch.log" | head; }

echo "== watch: idle CPU over $IDLE s"
sleep "$QUIET" # let the last snapshot settle
tick=$(getconf CLK_TCK)
cpu() { awk '{ print $14 + $15 }' "/proc/$wpid/stat"; }
c0=$(cpu)
t0=$(now)
sleep "$IDLE"
c1=$(cpu)
awk -v c="$((c1 - c0))" -v hz="$tick" -v a="$t0" -v b="$(now)" \
	'BEGIN { s = (b - a) / 1e9; printf "%d ticks in %.0f s: %.4f%% CPU\n", c, s, 100 * c / hz / s }'
snaps=$("$CKPTFS" log --project project --json | grep -c '"tag": "watch"')
echo "watch snapshots taken: $snaps (one per burst expected: $BURSTS)"
