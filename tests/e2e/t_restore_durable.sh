#!/bin/bash
# Restore makes files durable in batches (store/restore_batch.c): a few
# syncfs calls for thousands of files instead of an fsync each, and still
# no file under its real name before its content is durable.  Proven with
# the fault shim counting and failing the calls on the destination:
#   - the barrier count: no fsync of restored files, a handful of syncfs;
#   - a failing syncfs renames nothing: every file keeps its old version,
#     no temp file is left, the failure is one ckptfs: line per file;
#   - a failing rename fails that file only; the others are restored.
. "$(dirname "$0")/lib.sh"
lib=${CKPTFS_FAULTLIB:-}
[ -n "$lib" ] && [ -f "$lib" ] || skip "no fault injection library (CKPTFS_FAULTLIB; make builds it)"
# Under ASan the shim is preloaded before the runtime (as in t_fault.sh).
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"

P=$T/proj
mkdir -p "$P"
for d in $(seq 1 30); do
	mkdir -p "$P/d$d/sub"
	for f in $(seq 1 40); do echo "new $d $f" >"$P/d$d/f$f.txt"; done
	echo "deep $d" >"$P/d$d/sub/x"
done
chmod 0750 "$P/d3"
touch -d '2020-01-02 03:04:05' "$P/d5" "$P/d5/sub"
ck snap -q "$P"
first=$("$CKPTFS" log --json --project proj | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["name"])')
nfiles=$(find "$P" -type f | wc -l)

# run_faulted CALL NTH DEST ARGS...: restore under the shim, counting (and
# failing the NTH, if not 0) calls of CALL on paths under DEST.
run_faulted() {
	local call=$1 nth=$2 dest=$3; shift 3
	FAULT_CALL=$call FAULT_NTH=$nth FAULT_PREFIX=$dest FAULT_REPORT=$T/report \
		LD_PRELOAD=$lib "$CKPTFS" restore "$@" >"$T/out" 2>"$T/err"
}
calls() { sed -n 's/.*calls=\([0-9]*\).*/\1/p' "$T/report"; }

# --- barriers: none per file, a few per restore -------------------------------
run_faulted fsync 0 "$T/to1" . --project proj --to "$T/to1" || { cat "$T/err"; fail "restore exited $?"; }
[ "$(calls)" = 0 ] || fail "restore made $(calls) fsync calls on the destination (want none: batched)"
rm -rf "$T/to2"
run_faulted syncfs 0 "$T/to2" . --project proj --to "$T/to2" || { cat "$T/err"; fail "restore exited $?"; }
[ "$(calls)" -ge 1 ] && [ "$(calls)" -le 4 ] ||
	fail "restore of $nfiles files made $(calls) syncfs calls (want 1..4)"
same_tree "$P" "$T/to2"
[ "$(stat -c %a "$T/to2/d3")" = 750 ] || fail "a directory's mode was not restored"
[ "$(stat -c %Y "$T/to2/d5")" = "$(stat -c %Y "$P/d5")" ] || fail "a directory's mtime was not restored (set before the renames into it?)"

# --- a failing barrier renames nothing ----------------------------------------
# The project is changed, then restored in place from the snapshot with the
# first syncfs failing: every file must still hold its changed version.
for d in $(seq 1 30); do for f in $(seq 1 40); do echo "changed $d $f" >"$P/d$d/f$f.txt"; done; done
find "$P" -type f -exec sha256sum {} + | sort >"$T/before"
cd "$P"
if run_faulted syncfs 1 "$P" . --project proj --from "$first"; then fail "restore with a failing syncfs exited 0"; fi
cd "$T"
grep -q "cannot sync" "$T/err" || { cat "$T/err"; fail "the failure does not say what failed"; }
grep -v '^ckptfs: ' "$T/err" && fail "stderr holds lines that are not ckptfs: messages"
find "$P" -type f -exec sha256sum {} + | sort >"$T/after"
diff "$T/before" "$T/after" >/dev/null || { diff "$T/before" "$T/after" | head; fail "a file was replaced although its content was never made durable"; }
find "$P" -name '.*.ckptfs-*' | grep . && fail "temp files were left behind"

# --- batches made durable beside the walk ---------------------------------------
# A project of 320 folders is restored in several batches (128 folders
# each, store/restore_batch.c), whose syncfs and renames run on a thread
# of their own while the next batch is written (restore_pool.c).  With the
# second syncfs failing, the files of that batch keep their changed
# version and are reported, one line each; every other file is restored.
P2=$T/proj2
for d in $(seq 1 320); do
	mkdir -p "$P2/d$d"
	for f in 1 2 3; do echo "new $d $f" >"$P2/d$d/f$f"; done
done
ck snap -q "$P2"
first2=$("$CKPTFS" log --json --project proj2 | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["name"])')
rm -rf "$T/to5"
run_faulted syncfs 0 "$T/to5" . --project proj2 --to "$T/to5" || { cat "$T/err"; fail "restore exited $?"; }
[ "$(calls)" -ge 4 ] || fail "a restore of 320 folders made $(calls) syncfs calls (want one per batch of 128 folders, and the last)"
same_tree "$P2" "$T/to5"
# A batch is synced only once every file of it is back from its writer:
# the first write stalls for 2 s while the walk cuts the first batch and
# fills the next ones; that file must still be restored.
rm -rf "$T/to6"
FAULT_DELAY_MS=2000 run_faulted write 1 "$T/to6" . --project proj2 --to "$T/to6" ||
	{ cat "$T/err"; fail "restore with a slow write exited $?"; }
same_tree "$P2" "$T/to6"
find "$T/to6" -name '.*.ckptfs-*' | grep . && fail "a temp file was left behind by a slow write"
for d in $(seq 1 320); do for f in 1 2 3; do echo "changed $d $f" >"$P2/d$d/f$f"; done; done
cd "$P2"
if run_faulted syncfs 2 "$P2" . --project proj2 --from "$first2"; then fail "restore with a failing syncfs exited 0"; fi
cd "$T"
grep -v '^ckptfs: ' "$T/err" && fail "stderr holds lines that are not ckptfs: messages"
nfail=$(grep -c 'cannot sync' "$T/err" || true)
[ "$nfail" -gt 0 ] && [ "$nfail" -lt 960 ] || { cat "$T/err"; fail "want the files of one batch failed, not $nfail of 960"; }
kept=0
for d in $(seq 1 320); do
	for f in 1 2 3; do
		case $(cat "$P2/d$d/f$f") in
		"new $d $f") ;;
		"changed $d $f")
			kept=$((kept + 1))
			grep -q "d$d/f$f: cannot sync" "$T/err" || fail "d$d/f$f was not restored and not reported" ;;
		*) fail "d$d/f$f holds neither version" ;;
		esac
	done
done
[ "$kept" = "$nfail" ] || fail "$nfail files reported as not synced, $kept kept their changed version"
find "$P2" -name '.*.ckptfs-*' | grep . && fail "temp files were left behind after a failed batch"

# --- a failing rename fails that file only -------------------------------------
rm -rf "$T/to3"
if run_faulted rename 7 "$T/to3" . --project proj --from "$first" --to "$T/to3"; then fail "restore with a failing rename exited 0"; fi
[ "$(grep -c 'cannot rename' "$T/err")" = 1 ] || { cat "$T/err"; fail "want exactly one 'cannot rename' line"; }
[ "$(find "$T/to3" -type f | wc -l)" = $((nfiles - 1)) ] || fail "want every file but one restored"
find "$T/to3" -name '.*.ckptfs-*' | grep . && fail "temp files were left behind after a failed rename"
ck restore . --project proj --from "$first" --to "$T/to3" >/dev/null
same_tree "$T/to2" "$T/to3"

# --- a failing write (in a writer thread, store/restore_pool.c) fails that file only
rm -rf "$T/to4"
if run_faulted write 9 "$T/to4" . --project proj --from "$first" --to "$T/to4"; then fail "restore with a failing write exited 0"; fi
[ "$(grep -c 'cannot write' "$T/err")" = 1 ] || { cat "$T/err"; fail "want exactly one 'cannot write' line"; }
grep -v '^ckptfs: ' "$T/err" && fail "stderr holds lines that are not ckptfs: messages"
[ "$(find "$T/to4" -type f | wc -l)" = $((nfiles - 1)) ] || fail "want every file but one restored after a failed write"
find "$T/to4" -name '.*.ckptfs-*' | grep . && fail "temp files were left behind after a failed write"
ck restore . --project proj --from "$first" --to "$T/to4" >/dev/null
same_tree "$T/to2" "$T/to4"
echo ok
