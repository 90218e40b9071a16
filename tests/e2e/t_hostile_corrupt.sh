#!/bin/bash
# t_hostile_corrupt.sh — plant corruption in a repository; check must find
# every bit of it, restore must refuse rather than return wrong bytes, and
# check --repair must bring back every snapshot whose data survives.
#
#   - a random byte of a random pack flipped: check --read-data exits 1 and
#     names the pack (every byte of a pack is covered by a checksum, an
#     authenticator or a parsed field); restoring everything either fails
#     or gives exactly the original bytes;
#   - a pack truncated or deleted: plain check exits 1 naming the pack and
#     the damaged snapshot; --repair marks it damaged, keeps the others;
#   - catalog.db deleted, or overwritten with garbage: --repair rebuilds it
#     from the packs with every snapshot (same names), which then restore
#     byte for byte.
# Byte flips: 12 by default, 150 with CKPTFS_LONG=1.
. "$(dirname "$0")/lib.sh"

flips=12
[ "${CKPTFS_LONG:-0}" = 1 ] && flips=150
RANDOM=777

P=$T/proj
mkdir -p "$P/src/a/b"
for i in $(seq 1 40); do echo "file $i" >"$P/src/f$i"; done
head -c $((1 << 20)) /dev/urandom >"$P/src/a/b/one.bin"
echo "SECRET=x" >"$P/.env"
manifest() {
	(cd "$1" && find . -mindepth 1 -printf '%y %P\n' | LC_ALL=C sort &&
		find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum)
}
names=()
for k in 0 1 2; do
	head -c $((300 << 10)) /dev/urandom >"$P/src/new$k.bin"
	echo "round $k" >>"$P/src/f1"
	ck snap -q "$P" -m "round $k"
	names+=("$("$CKPTFS" log -p proj -n 1 | awk '{print $1}')")
	manifest "$P" >"$T/m$k"
done
ck check --read-data -q
cp -a "$CKPTFS_REPO" "$T/good"
fresh() { rm -rf "$CKPTFS_REPO"; cp -a "$T/good" "$CKPTFS_REPO"; }
packs() { (cd "$CKPTFS_REPO" && find packs -name '*.pack' | LC_ALL=C sort); }

# restore_all_exact_or_fail: every snapshot restores exactly or errors.
restore_all_exact_or_fail() {
	local k rc
	for k in 0 1 2; do
		rm -rf "$T/r"
		rc=0
		"$CKPTFS" restore . -p proj --from "${names[$k]}" --to "$T/r" >/dev/null 2>"$T/rerr" || rc=$?
		if [ $rc = 0 ]; then
			manifest "$T/r" >"$T/got"
			cmp -s "$T/got" "$T/m$k" || fail "$1: restore of ${names[$k]} succeeded with wrong contents"
		else
			grep -q '^ckptfs: ' "$T/rerr" || { cat "$T/rerr" >&2; fail "$1: restore failed without a ckptfs: message"; }
			restore_refused=$((restore_refused + 1))
		fi
	done
}

planted=0 detected=0 restore_refused=0
mapfile -t all_packs < <(packs)
for i in $(seq 1 "$flips"); do
	fresh
	pk=${all_packs[$((RANDOM % ${#all_packs[@]}))]}
	size=$(stat -c %s "$CKPTFS_REPO/$pk")
	off=$(( (RANDOM * 32768 + RANDOM) % size ))
	byte=$(od -An -tu1 -j "$off" -N1 "$CKPTFS_REPO/$pk" | tr -d ' ')
	printf "$(printf '\\%03o' $(( (byte ^ (1 << (RANDOM % 8))) & 255 )))" |
		dd of="$CKPTFS_REPO/$pk" bs=1 seek="$off" conv=notrunc status=none
	planted=$((planted + 1))
	rc=0
	"$CKPTFS" check --read-data >"$T/out" 2>&1 || rc=$?
	[ $rc = 1 ] || { cat "$T/out" >&2; fail "flipped a bit at $pk+$off: check --read-data exited $rc"; }
	name=$(basename "$pk" .pack)
	grep -q "$name" "$T/out" || { cat "$T/out" >&2; fail "check does not name pack $name"; }
	detected=$((detected + 1))
	restore_all_exact_or_fail "bit flip at $pk+$off"
done
echo "bit flips: $planted planted, $detected detected; $restore_refused restores refused, none wrong"

# A pack truncated, then deleted.
for how in truncate delete; do
	fresh
	pk=${all_packs[0]}
	name=$(basename "$pk" .pack)
	if [ $how = truncate ]; then
		truncate -s $(( $(stat -c %s "$CKPTFS_REPO/$pk") / 2 )) "$CKPTFS_REPO/$pk"
	else
		rm "$CKPTFS_REPO/$pk"
	fi
	planted=$((planted + 1))
	rc=0
	"$CKPTFS" check >"$T/out" 2>&1 || rc=$?
	[ $rc = 1 ] || { cat "$T/out" >&2; fail "$how pack: check exited $rc"; }
	grep -q "pack $name" "$T/out" || { cat "$T/out" >&2; fail "$how pack: check does not name it"; }
	grep -q "snapshot proj/" "$T/out" || { cat "$T/out" >&2; fail "$how pack: check names no snapshot"; }
	detected=$((detected + 1))
	restore_all_exact_or_fail "$how pack"
	n_before=$("$CKPTFS" log -p proj | grep -c .)
	rc=0
	"$CKPTFS" check --repair >"$T/out" 2>&1 || rc=$?
	# The data is gone, so the repaired repository is still damaged: exit 1.
	[ $rc = 1 ] || { cat "$T/out" >&2; fail "$how pack: check --repair exited $rc, not 1"; }
	grep -Eq ", [1-9][0-9]* marked damaged" "$T/out" || { cat "$T/out" >&2; fail "$how pack: repair marked nothing damaged"; }
	[ "$("$CKPTFS" log -p proj | grep -c .)" = "$n_before" ] || fail "$how pack: repair dropped a snapshot"
	"$CKPTFS" log -p proj | grep -q damaged || fail "$how pack: log shows no damaged snapshot"
	[ -n "$(ls "$CKPTFS_REPO"/packs/*/ 2>/dev/null)" ] || fail "$how pack: repair removed packs"
done
echo "truncated and deleted packs: detected, named, marked damaged; no snapshot dropped"

# The catalog lost, then replaced by garbage: repair rebuilds it.
for how in delete garbage; do
	fresh
	if [ $how = delete ]; then
		rm -f "$CKPTFS_REPO"/catalog.db*
	else
		head -c 65536 /dev/urandom >"$CKPTFS_REPO/catalog.db"
		rm -f "$CKPTFS_REPO"/catalog.db-wal "$CKPTFS_REPO"/catalog.db-shm
	fi
	planted=$((planted + 1))
	rc=0
	"$CKPTFS" check >"$T/out" 2>&1 || rc=$?
	[ $rc != 0 ] || { cat "$T/out" >&2; fail "catalog $how: check exited 0"; }
	detected=$((detected + 1))
	"$CKPTFS" check --repair >"$T/out" 2>&1 || { cat "$T/out" >&2; fail "catalog $how: repair exited non-zero"; }
	"$CKPTFS" check --read-data -q || fail "catalog $how: check after repair"
	for k in 0 1 2; do
		"$CKPTFS" log -p proj | grep -q "^${names[$k]} " ||
			{ "$CKPTFS" log -p proj >&2; fail "catalog $how: snapshot ${names[$k]} not recovered"; }
		rm -rf "$T/r"
		ck restore . -p proj --from "${names[$k]}" --to "$T/r" >/dev/null
		manifest "$T/r" >"$T/got"
		cmp -s "$T/got" "$T/m$k" || fail "catalog $how: ${names[$k]} restores differently after repair"
	done
	"$CKPTFS" log -p proj | grep -q "round 2" || fail "catalog $how: messages not recovered"
done
echo "catalog deleted / garbage: rebuilt by check --repair with all ${#names[@]} snapshots, exact"
echo "corruptions planted: $planted, detected: $detected"
[ "$planted" = "$detected" ] || fail "not every corruption was detected"
if [ -n "${CKPTFS_FIGURES:-}" ]; then
	echo "corrupt planted=$planted detected=$detected restores_refused=$restore_refused" >>"$CKPTFS_FIGURES"
fi
