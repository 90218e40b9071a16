#!/bin/bash
# bench-remote.sh — push, incremental push and recover against `rclone
# copy` of the same bytes in the same run (issue 13's figures).
#
#   CKPTFS=./ckptfs scripts/bench-remote.sh      (make bench-remote)
#
# BENCH_MB (default 1024) of incompressible data make the repository;
# "an hour of work" adds BENCH_WORK_MB (default 40) of new data and edits
# a few files.  Everything lives in a temp dir under $TMPDIR, removed at
# the end.  Page cache is left warm for both sides (same conditions), and
# every phase starts after a `sync`, so none pays for the previous one's
# writeback.  push makes each pack durable before a manifest names it (the
# remote must be valid after a crash); rclone copy does not, so it is
# timed twice: as it is, and until its data is durable (copy + sync).
# Each round and the summary show the 1-minute load average: on a shared
# machine a figure means little without it.
set -euo pipefail
: "${CKPTFS:?set CKPTFS to the ckptfs binary}"
command -v rclone >/dev/null || { echo "bench-remote: needs rclone" >&2; exit 1; }
MB=${BENCH_MB:-1024}
WORK_MB=${BENCH_WORK_MB:-40}
T=$(mktemp -d "${TMPDIR:-/tmp}/ckptfs-bench-remote.XXXXXX")
trap 'rm -rf "$T"' EXIT
export CKPTFS_REPO=$T/repo RCLONE_CONFIG=$T/rclone.conf CKPTFS_KEYWRAP_MS=1
printf '[loc]\ntype = local\n' >"$RCLONE_CONFIG"
printf 'bench\n' >"$T/pass"
export CKPTFS_PASSPHRASE_FILE=$T/pass

load() { cut -d' ' -f1 /proc/loadavg; }
secs() { python3 -c 'import sys,time; print(f"{time.time():.3f}")'; }
timed() { local a b; sync; a=$(secs); "$@" >/dev/null; b=$(secs); python3 -c "print(f'{$b-$a:.2f}')"; }
copy_sync() { rclone copy "$@" && sync; }
ratio() { python3 -c "print(f'{$1/$2:.2f}')"; }
mibps() { python3 -c "print(f'{$1/1048576/$2:.0f}')"; }

P=$T/proj
mkdir -p "$P/data" "$P/src"
for i in $(seq 1 $((MB / 64))); do head -c $((64 << 20)) /dev/urandom >"$P/data/f$i.bin"; done
for i in $(seq 1 200); do echo "int f$i(void) { return $i; }" >"$P/src/f$i.c"; done
(cd "$P" && "$CKPTFS" snap -q)
"$CKPTFS" key passphrase >/dev/null
bytes=$(du -sb "$CKPTFS_REPO/packs" | cut -f1)
# First push vs rclone copy of the same packs, BENCH_ROUNDS times (default
# 3) each right after the other into fresh targets: on a shared machine
# the load moves between phases, so each round's ratio is taken and the
# median reported (and the times of the median round).
ROUNDS=${BENCH_ROUNDS:-3}
# The index of the median of its arguments (as printed, so the ratio is
# shown exactly as the round gave it).
median_at() { python3 -c 'import sys; v = [float(x) for x in sys.argv[1:]]; print(sorted(range(len(v)), key=v.__getitem__)[len(v) // 2])' "$@"; }
r_dir=() r_rcl=() rows=()
for r in $(seq 1 "$ROUNDS"); do
	[ "$r" = "$ROUNDS" ] && d=dir || d=dir$r
	[ "$r" = "$ROUNDS" ] && c=rcl || c=rcl$r
	"$CKPTFS" remote add "$d" "$T/r-$d" >/dev/null
	"$CKPTFS" remote add "$c" "rclone:loc:$T/r-$c" >/dev/null
	a=$(timed rclone copy "$CKPTFS_REPO/packs" "$T/rc-copy$r/packs")
	b=$(timed copy_sync "$CKPTFS_REPO/packs" "$T/rc-copys$r/packs")
	e=$(timed "$CKPTFS" push "$d")
	f=$(timed "$CKPTFS" push "$c")
	rm -rf "$T/rc-copy$r" "$T/rc-copys$r"
	[ "$r" = "$ROUNDS" ] || { rm -rf "$T/r-$d" "$T/r-$c"; "$CKPTFS" remote remove "$d" >/dev/null; "$CKPTFS" remote remove "$c" >/dev/null; }
	r_dir+=("$(ratio "$a" "$e")") r_rcl+=("$(ratio "$a" "$f")") rows+=("$a $b $e $f")
	echo "bench-remote: round $r: rclone copy $a s, copy+sync $b s, push dir $e s, push rclone $f s (load $(load))" >&2
done
m=$(median_at "${r_rcl[@]}")
read -r t_rc t_rcs t_dir t_rcl <<<"${rows[$m]}"
med_rcl=${r_rcl[$m]} med_dir=${r_dir[$(median_at "${r_dir[@]}")]}

# An hour of work: new data, a few edited files.
head -c $((WORK_MB << 20)) /dev/urandom >"$P/data/new.bin"
for i in $(seq 1 20); do echo "// edited" >>"$P/src/f$i.c"; done
(cd "$CKPTFS_REPO" && find packs -name '*.pack' | sort) >"$T/before"
(cd "$P" && "$CKPTFS" snap -q)
(cd "$CKPTFS_REPO" && find packs -name '*.pack' | sort) >"$T/after"
new_bytes=0
for f in $(comm -13 "$T/before" "$T/after"); do
	new_bytes=$((new_bytes + $(stat -c %s "$CKPTFS_REPO/$f")))
done
sent=$("$CKPTFS" push dir --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["new_bytes"])')
# The rclone remote: what arrived there (its packs folder grew by), not
# only what push says it sent.
rcl_before=$(du -sb "$T/r-rcl/packs" | cut -f1)
t_inc_rcl=$(timed "$CKPTFS" push rcl)
sent_rcl=$(($(du -sb "$T/r-rcl/packs" | cut -f1) - rcl_before))

# Recover vs rclone copy back.
t_rc_back=$(timed rclone copy "$T/r-dir" "$T/rc-back")
t_rcs_back=$(timed copy_sync "$T/r-dir" "$T/rc-back2")
t_rec=$(timed "$CKPTFS" recover "$T/r-dir" --repo "$T/recovered")
t_rec_rcl=$(timed "$CKPTFS" recover "rclone:loc:$T/r-rcl" --repo "$T/recovered2")

printf 'bench-remote: %s MiB of packs (%s packs); %s MiB new work; load %s\n' "$((bytes >> 20))" \
	"$(wc -l <"$T/before")" "$WORK_MB" "$(load)"
printf '  %-40s %8s s  %5s MiB/s\n' "rclone copy (packs, local->local)" "$t_rc" "$(mibps "$bytes" "$t_rc")"
printf '  %-40s %8s s  %5s MiB/s\n' "rclone copy + sync (durable)" "$t_rcs" "$(mibps "$bytes" "$t_rcs")"
printf '  %-40s %8s s  %5s MiB/s  %sx rclone copy, %sx copy+sync\n' "push, directory remote" "$t_dir" \
	"$(mibps "$bytes" "$t_dir")" "$(ratio "$t_rc" "$t_dir")" "$(ratio "$t_rcs" "$t_dir")"
printf '  %-40s %8s s  %5s MiB/s  %sx rclone copy, %sx copy+sync\n' "push, rclone local remote" "$t_rcl" \
	"$(mibps "$bytes" "$t_rcl")" "$(ratio "$t_rc" "$t_rcl")" "$(ratio "$t_rcs" "$t_rcl")"
printf '  %-40s directory %s (%s), rclone %s (%s)\n' "median of $ROUNDS rounds, x rclone copy" "$med_dir" \
	"${r_dir[*]}" "$med_rcl" "${r_rcl[*]}"
printf '  %-40s %8s B sent / %s B of new packs = %s\n' "incremental push, directory" "$sent" "$new_bytes" \
	"$(ratio "$sent" "$new_bytes")"
printf '  %-40s %8s B arrived / %s B of new packs = %s (%s s)\n' "incremental push, rclone" "$sent_rcl" \
	"$new_bytes" "$(ratio "$sent_rcl" "$new_bytes")" "$t_inc_rcl"
printf '  %-40s %8s s\n' "rclone copy of the remote back" "$t_rc_back"
printf '  %-40s %8s s\n' "rclone copy back + sync (durable)" "$t_rcs_back"
printf '  %-40s %8s s  %sx rclone copy back, %sx copy+sync\n' "recover, directory remote" "$t_rec" \
	"$(ratio "$t_rec" "$t_rc_back")" "$(ratio "$t_rec" "$t_rcs_back")"
printf '  %-40s %8s s  %sx rclone copy back, %sx copy+sync\n' "recover, rclone local remote" "$t_rec_rcl" \
	"$(ratio "$t_rec_rcl" "$t_rc_back")" "$(ratio "$t_rec_rcl" "$t_rcs_back")"
