#!/bin/bash
# Run every tests/e2e/*.sh against $CKPTFS (the binary under test).
# Each script is self-contained: it makes its own temp dirs, repository and
# mounts, and cleans them up on exit (see tests/e2e/lib.sh).
# CKPTFS_E2E_FILTER=regex runs only the matching scripts.
set -u
shopt -s nullglob
: "${CKPTFS:?set CKPTFS to the ckptfs binary}"
export CKPTFS
here=$(cd "$(dirname "$0")/.." && pwd)
pass=0 fail=0 skip=0 failed=
for t in "$here"/tests/e2e/t_*.sh; do
	name=${t##*/}
	[ -n "${CKPTFS_E2E_FILTER:-}" ] && ! [[ $name =~ $CKPTFS_E2E_FILTER ]] && continue
	log=$(mktemp)
	start=$(date +%s)
	bash "$t" >"$log" 2>&1
	rc=$?
	secs=$(( $(date +%s) - start ))
	if [ $rc = 0 ]; then
		pass=$((pass + 1)); echo "ok   $name (${secs}s)"
	elif [ $rc = 77 ]; then
		skip=$((skip + 1)); echo "skip $name: $(tail -n1 "$log")"
	else
		fail=$((fail + 1)); failed="$failed $name"
		echo "FAIL $name (exit $rc, ${secs}s)"; sed 's/^/    /' "$log" | tail -n 60
	fi
	rm -f "$log"
done
echo "e2e: $pass passed, $fail failed, $skip skipped"
[ $fail = 0 ] || { echo "failed:$failed" >&2; exit 1; }
