#!/bin/bash
# run.sh — drive the fuzz targets.
#
#   run.sh replay DIR NAME...   run DIR/replay_NAME over tests/fuzz/corpus/NAME
#                               (seeds and saved crashers): what `make check` does
#   run.sh fuzz DIR NAME...     run DIR/lf_NAME (libFuzzer) for $FUZZ_SECONDS
#                               each; new crashers are saved in the corpus
#                               folder, figures in build/fuzz/summary
set -u
mode=$1 dir=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
fail=0
case $mode in
replay)
	n=0
	for t in "$@"; do
		corpus=$here/corpus/$t
		[ -d "$corpus" ] || { echo "fuzz replay: $t: no corpus in $corpus" >&2; fail=1; continue; }
		if ! out=$("$dir/replay_$t" "$corpus" 2>&1); then
			echo "$out" | tail -n 30 >&2
			echo "fuzz replay: $t FAILED" >&2
			fail=1
			continue
		fi
		n=$((n + $(echo "$out" | sed -n 's/.*: \([0-9]*\) inputs/\1/p')))
	done
	echo "fuzz replay: $# targets, $n corpus inputs, $([ $fail = 0 ] && echo ok || echo FAILED)"
	;;
fuzz)
	secs=${FUZZ_SECONDS:-60}
	work=$(cd "$dir/../../.." && pwd)/fuzz-work
	summary=$(cd "$dir/../.." && pwd)/summary
	: >"$summary"
	total=0
	for t in "$@"; do
		corpus=$here/corpus/$t
		mkdir -p "$corpus" "$work/$t"
		log=$work/$t.log
		# The first folder collects what libFuzzer finds interesting (not
		# committed); the committed corpus is read; crashers, timeouts and
		# ooms land in the committed corpus so `make check` replays them.
		"$dir/lf_$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
			-print_final_stats=1 -artifact_prefix="$corpus/" \
			"$work/$t" "$corpus" >"$log" 2>&1
		rc=$?
		execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
		execs=${execs:-0}
		total=$((total + execs))
		if [ $rc != 0 ]; then
			fail=1
			echo "fuzz $t: FOUND A PROBLEM after $execs executions (exit $rc); see $log and the new file in $corpus" >&2
			grep -E 'ERROR|SUMMARY|Test unit written' "$log" | head -5 >&2
		else
			echo "fuzz $t: $execs executions in ${secs}s, no problem"
		fi
		echo "$t $execs $rc" >>"$summary"
	done
	echo "fuzz: $total executions over $# targets"
	echo "total $total" >>"$summary"
	;;
*)
	echo "usage: $0 replay|fuzz DIR NAME..." >&2
	exit 2
	;;
esac
exit $fail
