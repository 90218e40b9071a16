#!/bin/bash
# Finding things in history (issue 14): on a HIST_SNAPS-snapshot history
# (default 1,000) of a HIST_FILES-file project (default 30,000) with 20
# files changed per snapshot, built by tests/bench_history.c through the
# store as snap builds trees:
#   versions FILE        (< 0.2 s)
#   search NAME          over all history (< 1 s)
#   ls @versions/<dir>   first access (< 0.3 s), and the mount's RSS after
#                        browsing @versions
#   diff                 latest vs the working tree of an unchanged
#                        30,000-file project (< 0.3 s, no content read)
#   forget --policy      the built-in policy over the whole history, dry
#                        run and real (< 1 s each)
# Run by `make bench` (after the rest) and alone by `make bench-history`.
# HIST_DIR (default: a temp dir in /var/tmp) holds everything; removed at
# the end unless BENCH_KEEP=1.
set -euo pipefail
: "${CKPTFS:?set CKPTFS to the ckptfs binary}"
: "${BENCH_HISTORY_BIN:?set BENCH_HISTORY_BIN to build/out/tests/bench_history}"
here=$(cd "$(dirname "$0")/.." && pwd)
SNAPS=${HIST_SNAPS:-1000}
FILES=${HIST_FILES:-30000}
W=${HIST_DIR:-$(mktemp -d /var/tmp/ckptfs-hbench.XXXXXX)}
M=$W/mnt
mkdir -p "$W" "$M"
cleanup() {
	mountpoint -q "$M" 2>/dev/null && fusermount3 -u "$M" 2>/dev/null
	[ "${BENCH_KEEP:-0}" = 1 ] || rm -rf "$W"
}
trap cleanup EXIT
export CKPTFS_REPO=$W/repo TZ=${TZ:-UTC}
now() { date +%s%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b - a) / 1e9 }'; }
pass() { awk -v v="$1" -v lim="$2" 'BEGIN { print (v + 0 <= lim + 0) ? "ok" : "SLOW" }'; }
# timed CMD...: "WALL CPU" seconds (CPU = user + system of CMD: on a busy
# machine wall time is mostly waiting for a CPU, and CPU time is what an
# idle one would take).
timed() {
	/usr/bin/time -f '%e %U %S' -o "$W/time.txt" "$@" >/dev/null || { echo "bench: $* failed" >&2; exit 1; }
	awk '{ printf "%.3f %.3f", $1, $2 + $3 }' "$W/time.txt"
}
# show "WALL CPU" LIMIT: the figure, judged by CPU time.
show() { set -- $1 "$2"; echo "$1 s wall, $2 s CPU  ($(pass "$2" "$3") < $3 s)"; }
# show_par "WALL CPU" LIMIT: the same for search, which runs on up to 4
# threads (one per 128 snapshots, at most one per CPU): judged by CPU time
# per thread, what an idle machine's wall time would be.
threads=$(( SNAPS / 128 )); [ "$threads" -gt 4 ] && threads=4
[ "$threads" -gt "$(nproc)" ] && threads=$(nproc); [ "$threads" -lt 1 ] && threads=1
show_par() {
	set -- $1 "$2"
	local per; per=$(awk -v c="$2" -v t="$threads" 'BEGIN { printf "%.3f", c / t }')
	echo "$1 s wall, $2 s CPU on $threads threads = $per s each  ($(pass "$per" "$3") < $3 s)"
}

echo "== building $SNAPS snapshots of $FILES files (20 changed each)"
"$BENCH_HISTORY_BIN" "$CKPTFS_REPO" "$SNAPS" "$FILES" 20 | sed 's/^/   /'

per=$((FILES / 300))
F=d07/s3/f$([ "$per" -gt 42 ] && echo 0042 || echo 0000).txt
# Warm the page cache and the catalog once, as a user's second command.
"$CKPTFS" log --project histbench -n 1 >/dev/null
v_file=$(timed "$CKPTFS" versions --project histbench $F)
v_env=$(timed "$CKPTFS" versions --project histbench .env)
n_env=$("$CKPTFS" versions --project histbench --json .env | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["versions"]))')
s_name=$(timed "$CKPTFS" search --project histbench "${F##*/}")
s_env=$(timed "$CKPTFS" search .env)

echo "== mounting, browsing @versions"
"$CKPTFS" mount "$M"
# The mount works in its own process: wall time only (CPU column: ls's).
ls_dir=$(timed ls "$M/histbench/@versions/d07/s3/")
ls_env=$(timed ls -l "$M/histbench/@versions/.env/")
cmp "$M/histbench/@versions/.env/$(ls "$M/histbench/@versions/.env" | sed -n 1p)" \
	"$M/histbench/$(ls "$M/histbench/@versions/.env" | sed -n 1p)/.env" || { echo "bench: @versions content differs" >&2; exit 1; }
for t in 00 05 11 17 23 29; do ls "$M/histbench/@versions/d$t/s1/" >/dev/null; done
pid=$(pgrep -n -f "ckptfs mount $M" || true)
rss=$([ -n "$pid" ] && awk '/VmRSS/ { print $2 }' "/proc/$pid/status" || echo '?')
"$CKPTFS" umount "$M"

echo "== diff of an unchanged $FILES-file project"
mkdir -p "$here/build/bench"
cc -O2 -Wall -o "$here/build/bench/gen-tree" "$here/bench/gen-tree.c" -lm
"$here/build/bench/gen-tree" -n "$FILES" -s 200 "$W/project" >/dev/null
sleep 1 # out of the racy window of the files cache
"$CKPTFS" snap -q "$W/project"
cd "$W/project"
"$CKPTFS" diff >/dev/null || { echo "bench: diff of an unchanged tree found changes" >&2; exit 1; }
d_t=$(timed "$CKPTFS" diff)
# Files (not folders) opened relative to a folder fd, other than the
# repository's own (format, key, packs): what the diff read of the project.
strace -f -e trace=openat -o "$W/strace.txt" "$CKPTFS" diff >/dev/null
files_opened=$(grep -v O_DIRECTORY "$W/strace.txt" | grep -E 'openat\([0-9]+, "' |
	grep -cEv 'openat\([0-9]+, "(format|key|packs/)' || true)

# forget with the built-in policy over the whole history (issue 10: < 1 s):
# the dry run decides, the real run also moves what goes into the trash.
export XDG_CONFIG_HOME=$W/cfg # no user config: the built-in default
f_dry=$(timed "$CKPTFS" forget --project histbench --policy --dry-run)
f_run=$(timed "$CKPTFS" forget --project histbench --policy)
f_n=$("$CKPTFS" trash --json --project histbench | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')

cat <<TABLE

ckptfs history bench: $SNAPS snapshots x $FILES files, 20 changed per snapshot ($(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg))
----------------------------------------------------------------------------------
versions FILE              $(show "$v_file" 0.2)
versions .env ($n_env versions)  $(show "$v_env" 0.2)
search NAME, one project   $(show_par "$s_name" 1)
search .env, all projects  $(show_par "$s_env" 1)
ls @versions/<dir> first   ${ls_dir%% *} s wall ($(pass "${ls_dir%% *}" 0.3) < 0.3 s);  ls -l @versions/.env/ ${ls_env%% *} s wall
mount RSS after browsing   ${rss} KiB
diff, unchanged project    $(show "$d_t" 0.3), files opened below the project: $files_opened
forget --policy --dry-run  $(show "$f_dry" 1)
forget --policy            $(show "$f_run" 1), $f_n of $SNAPS snapshots to the trash
TABLE
