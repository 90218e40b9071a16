#!/bin/sh
# Run each cmocka binary; print one summary line that CI can read.
set -u
pass=0 fail=0 failed=
for t in "$@"; do
	if "$t"; then pass=$((pass + 1)); else fail=$((fail + 1)); failed="$failed ${t##*/}"; fi
done
echo "unit: $pass passed, $fail failed"
[ $fail = 0 ] || { echo "failed:$failed" >&2; exit 1; }
