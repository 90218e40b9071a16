#!/bin/bash
# ckptfs snap --all: every registered project, one line each; a deleted
# project is skipped with one line (exit 5 when that is all), a partial one
# gives 3, a failing one 1 — and never stops the others; --json; the run is
# recorded for ckptfs status.
. "$(dirname "$0")/lib.sh"

# No repository yet: nothing to do, not an error.
expect_status 0 "$CKPTFS" snap --all
grep -q 'no projects registered' "$T/stderr" || fail "no line for an empty repository"
[ ! -e "$CKPTFS_REPO" ] || fail "snap --all created a repository"

for p in a b c d; do
	mkdir -p "$T/$p" && printf '%s\n' "$p" >"$T/$p/file.txt"
	(cd "$T/$p" && ck snap -q)
done

# --- all complete ---------------------------------------------------------
expect_status 0 "$CKPTFS" snap --all -t nightly
[ "$(wc -l <"$T/stdout")" = 4 ] || fail "not one line per project: $(cat "$T/stdout")"
for p in a b c d; do grep -q "^$p 20" "$T/stdout" || fail "no line for $p"; done
ck log --project c --json | grep -q '"tag": "nightly"' || fail "-t not applied"
expect_status 0 "$CKPTFS" snap --all -q
[ ! -s "$T/stdout" ] || fail "-q printed: $(cat "$T/stdout")"

# --- one deleted: skipped with one line, exit 5, the others taken ----------
rm -rf "$T/d"
printf 'edited\n' >"$T/a/file.txt"
expect_status 5 "$CKPTFS" snap --all
[ "$(grep -c '^ckptfs: d: skipped: .*no longer exists' "$T/stderr")" = 1 ] ||
	fail "a missing root is not one line: $(cat "$T/stderr")"
[ "$(wc -l <"$T/stdout")" = 3 ] || fail "the other projects were not all taken"
ck restore file.txt --project a --to "$T/out/"
[ "$(cat "$T/out/file.txt")" = edited ] || fail "project a's snapshot is not the new state"

# --- one partial (a database that cannot be dumped) -----------------------
if command -v pg_dump >/dev/null; then
	printf 'DATABASE_URL=postgres://u:p@127.0.0.1:1/app\n' >"$T/b/.env"
	expect_status 3 "$CKPTFS" snap --all
	grep -q '^b 20.* partial: 1 database' "$T/stdout" || fail "no partial line for b"
	grep -q '^c 20' "$T/stdout" || fail "c not taken after b's partial snapshot"
	rm "$T/b/.env"
fi

# --- one failing: exit 1, the others still taken ----------------------------
printf '[[[ not toml\n' >"$T/a/.ckptfs.toml"
n_before=$("$CKPTFS" log --project c --json | grep -c '"name"')
expect_status 1 "$CKPTFS" snap --all
grep -q '^ckptfs: a: no snapshot: .ckptfs.toml:1' "$T/stderr" || fail "no line for a: $(cat "$T/stderr")"
n_after=$("$CKPTFS" log --project c --json | grep -c '"name"')
[ "$n_after" = $((n_before + 1)) ] || fail "a's failure stopped the projects after it"

# --- --json: the record, also kept for status -------------------------------
expect_status 1 "$CKPTFS" snap --all --json
python3 - "$T/stdout" "$CKPTFS_REPO/state/last-run.json" <<'PY' || fail "--json record wrong"
import json, sys
out = json.load(open(sys.argv[1]))
kept = json.load(open(sys.argv[2]))
assert out == kept, "printed and kept records differ"
res = {p["project"]: p for p in out["projects"]}
assert res["a"]["result"] == "failed" and ".ckptfs.toml" in res["a"]["reason"], res["a"]
assert res["a"]["snapshot"] is None
assert res["b"]["result"] == "complete" and res["b"]["snapshot"]["project"] == "b"
assert res["d"]["result"] == "missing" and "no longer exists" in res["d"]["reason"]
assert out["exit"] == 1
PY
rm "$T/a/.ckptfs.toml"
ls -A "$CKPTFS_REPO/state" | grep -v '^last-run.json$' && fail "temp files left in state/"

# --- bad command lines ------------------------------------------------------
expect_status 2 "$CKPTFS" snap --all "$T/a"
grep -q '^ckptfs: snap: --all takes no DIR' "$T/stderr" || fail "no line for --all DIR"
expect_status 2 "$CKPTFS" snap --all --dry-run
expect_status 2 "$CKPTFS" snap --json
grep -q '^ckptfs: snap: --json goes with --all' "$T/stderr" || fail "no line for --json alone"
echo "ok"
