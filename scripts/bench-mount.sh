#!/bin/bash
# bench-mount.sh: speed and memory figures of `ckptfs mount`.
#
#   1. a 1 GiB file (half random, half text): cp out of the mount, against
#      `ckptfs restore` of it and cp out of `restic mount`
#   2. `ls -la` of a 10,000-entry directory, cold (freshly mounted)
#   3. `find` over a 30,000-file snapshot (bench/gen-tree.c), cold
#   4. time to the first `ls` with 10 and with 1,000 snapshots in a project
#   5. the mount process's memory (VmHWM, VmRSS) after all of that
#
# "Cold" means a fresh mount: nothing in the kernel's caches for the mount
# and nothing in the mount's own caches; the repository's files are in the
# page cache for every tool alike.  BENCH_DIR (default: a temp dir in
# /var/tmp) holds everything and is removed at the end unless BENCH_KEEP=1.
# BENCH_BIG_MIB, BENCH_FILES, BENCH_HISTORY shrink the sizes for a quick run.
set -euo pipefail
: "${CKPTFS:?set CKPTFS to the ckptfs binary}"
here=$(cd "$(dirname "$0")/.." && pwd)
BIG_MIB=${BENCH_BIG_MIB:-1024}
FILES=${BENCH_FILES:-30000}
HISTORY=${BENCH_HISTORY:-1000}
W=${BENCH_DIR:-$(mktemp -d /var/tmp/ckptfs-bench-mount.XXXXXX)}
mkdir -p "$W"
M=$W/mnt
R=$W/rmnt
restic_pid=
cleanup() {
	set +e
	mountpoint -q "$M" && "$CKPTFS" umount "$M"
	[ -n "$restic_pid" ] && kill "$restic_pid" 2>/dev/null && wait "$restic_pid" 2>/dev/null
	mountpoint -q "$R" && fusermount3 -u "$R"
	[ "${BENCH_KEEP:-0}" = 1 ] || rm -rf "$W"
}
trap cleanup EXIT
export CKPTFS_REPO=$W/repo TZ=${TZ:-UTC}
mkdir -p "$M" "$R"

now() { date +%s%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b - a) / 1e9 }'; }
remount() {
	mountpoint -q "$M" && "$CKPTFS" umount "$M"
	"$CKPTFS" mount "$M" "$@"
}
mount_pid() { pgrep -f "ckptfs mount $M" | head -1; }
mbps() { awk -v mib="$1" -v s="$2" 'BEGIN { printf "%.0f MiB/s", mib / s }'; }

echo "== a $BIG_MIB MiB file"
B=$W/big
mkdir -p "$B"
half=$((BIG_MIB / 2))
{ head -c "${half}M" /dev/urandom; head -c "$((BIG_MIB - half))M" < <(yes 'a line of text that compresses well, with some numbers 0123456789'); } >"$B/big.bin"
"$CKPTFS" snap -q "$B"
sync

# The three copies are repeated REPEAT times, interleaved, each from a
# fresh mount; the table shows the median of each (the machine may be
# shared, so only figures from one run compare).
REPEAT=${BENCH_REPEAT:-3}
restic_ready=
if command -v restic >/dev/null; then
	export RESTIC_PASSWORD=bench RESTIC_REPOSITORY=$W/restic
	restic init -q >/dev/null
	restic backup -q "$B" >/dev/null
	restic_ready=1
fi
cp_restic() {
	restic mount "$R" >/dev/null 2>&1 &
	restic_pid=$!
	for i in $(seq 100); do [ -d "$R/snapshots/latest" ] && break; sleep 0.1; done
	local t0
	t0=$(now)
	cp "$R/snapshots/latest$B/big.bin" "$W/out-restic.bin"
	secs "$t0" "$(now)"
	rm -f "$W/out-restic.bin"
	kill -INT "$restic_pid"
	wait "$restic_pid" 2>/dev/null || true
	restic_pid=
	if mountpoint -q "$R"; then fusermount3 -u "$R"; fi
}
cp_mount() {
	remount "$@"
	local t0
	t0=$(now)
	cp "$M/big/latest/big.bin" "$W/out-mount.bin"
	secs "$t0" "$(now)"
	cmp -s "$W/out-mount.bin" "$B/big.bin" || { echo "bench: cp from the mount differs" >&2; exit 1; }
	rm -f "$W/out-mount.bin"
}
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
all_restore=() all_mount=() all_restic=()
for i in $(seq "$REPEAT"); do
	t0=$(now)
	"$CKPTFS" restore big.bin --project big --to "$W/out-restore.bin" >/dev/null
	all_restore+=("$(secs "$t0" "$(now)")")
	rm -f "$W/out-restore.bin"
	all_mount+=("$(cp_mount)")
	[ -n "$restic_ready" ] && all_restic+=("$(cp_restic)")
	echo "   run $i: restore ${all_restore[-1]} s, mount ${all_mount[-1]} s," \
		"restic mount ${all_restic[-1]:-skipped} s, load $(cut -d' ' -f1 /proc/loadavg)"
done
t_restore=$(median "${all_restore[@]}")
t_mount=$(median "${all_mount[@]}")
t_restic=skipped
[ -n "$restic_ready" ] && t_restic=$(median "${all_restic[@]}")

echo "== a 10,000-entry directory"
D=$W/wide
mkdir -p "$D/dir"
(cd "$D/dir" && seq -f 'entry-%05g.txt' 1 10000 | xargs touch)
"$CKPTFS" snap -q "$D"
remount
ls "$M" >/dev/null
t0=$(now)
ls -la "$M/wide/latest/dir" >/dev/null
t_ls=$(secs "$t0" "$(now)")
t0=$(now)
ls -la "$M/wide/latest/dir" >/dev/null
t_ls_warm=$(secs "$t0" "$(now)")
echo "   cold $t_ls s, warm $t_ls_warm s"

echo "== find over a $FILES-file snapshot"
mkdir -p "$here/build/bench"
cc -O2 -Wall -o "$here/build/bench/gen-tree" "$here/bench/gen-tree.c" -lm
"$here/build/bench/gen-tree" -n "$FILES" -s 64 "$W/tree"
"$CKPTFS" snap -q "$W/tree"
remount
t0=$(now)
n=$(find "$M/tree/latest/" | wc -l)
t_find=$(secs "$t0" "$(now)")
t0=$(now)
find "$M/tree/latest/" -printf '%s %T@\n' >/dev/null
t_find_stat=$(secs "$t0" "$(now)")
echo "   $n entries: find $t_find s, then find -printf with stat $t_find_stat s"

echo "== time to the first ls, 10 and $HISTORY snapshots"
H=$W/hist
mkdir -p "$H"
printf 'v0\n' >"$H/file"
first_ls() {
	remount
	local t0
	t0=$(now)
	ls "$M" >/dev/null
	ls -la "$M/hist" >/dev/null
	cat "$M/hist/latest/file" >/dev/null
	secs "$t0" "$(now)"
}
for i in $(seq 1 10); do printf 'v%d\n' "$i" >"$H/file"; "$CKPTFS" snap -q "$H"; done
t_first10=$(first_ls)
for i in $(seq 11 "$HISTORY"); do printf 'v%d\n' "$i" >"$H/file"; "$CKPTFS" snap -q "$H"; done
t_first_n=$(first_ls)
echo "   10: $t_first10 s, $HISTORY: $t_first_n s"

echo "== memory of the mount process"
# one more pass over everything, in the same mount, to fill its caches
cat "$M/big/latest/big.bin" >/dev/null
find "$M/tree/latest/" -type f -exec cat {} + >/dev/null
ls -la "$M/wide/latest/dir" >/dev/null
pid=$(mount_pid)
hwm=$(awk '/^VmHWM/ { print $2 }' "/proc/$pid/status")
rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$pid/status")
echo "   VmHWM $((hwm / 1024)) MiB, VmRSS $((rss / 1024)) MiB (default cache 64 MiB)"

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == "skipped") print "-"; else printf "%.2f", a / b }'; }
pass() { awk -v v="$1" -v lim="$2" 'BEGIN { print (v + 0 <= lim + 0) ? "ok" : "SLOW" }'; }
cat <<TABLE

ckptfs mount bench ($(uname -r), $(nproc) CPUs, repository in the page cache)
----------------------------------------------------------------------------------
medians of $REPEAT runs:
cp $BIG_MIB MiB out of the mount   $t_mount s  $(mbps "$BIG_MIB" "$t_mount")
  ckptfs restore of it      $t_restore s  mount/restore time $(ratio "$t_mount" "$t_restore") (want <= 2)
  restic mount, cp          $t_restic s  restic/mount time $(ratio "$t_restic" "$t_mount") (want >= 3)
ls -la 10,000 entries       cold $t_ls s ($(pass "$t_ls" 0.2) < 0.2 s), warm $t_ls_warm s
find $n entries         cold $t_find s ($(pass "$t_find" 1) < 1 s); with stat $t_find_stat s
first ls, 10 snapshots      $t_first10 s
first ls, $HISTORY snapshots    $t_first_n s
mount process memory        peak $((hwm / 1024)) MiB, now $((rss / 1024)) MiB
TABLE
