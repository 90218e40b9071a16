#!/bin/bash
# A directory remote on a file system that refuses O_DIRECT (tmpfs before
# Linux 6.6, some FUSE and network file systems): push and recover fall
# back to writes through the page cache and still verify every pack.
# The fault shim (tests/fault/faultinject.c) stands in for such a file
# system twice: every open that asks for O_DIRECT fails with EINVAL
# (odirect_open), and every read or write on an fd open with O_DIRECT
# fails with EINVAL (odirect_io: a file system that accepts the flag and
# refuses the transfer).  Each time: the push succeeds, the remote's packs
# are the local ones byte for byte with no temp file left, `check --remote
# --read-data` is clean, the push leaves none of the packs in the page
# cache (as a direct push does), and a recover whose destination refuses
# O_DIRECT brings every snapshot back byte for byte.
. "$(dirname "$0")/lib.sh"
export CKPTFS_KEYWRAP_MS=1
lib=${CKPTFS_FAULTLIB:-}
[ -n "$lib" ] && [ -f "$lib" ] || skip "no fault injection library (CKPTFS_FAULTLIB; make builds it)"
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
printf 'the passphrase\n' >"$T/pass"

P=$T/proj
mkdir -p "$P/src"
for i in $(seq 1 20); do echo "source $i" >"$P/src/f$i.c"; done
# Packs of several sizes: one over a 4 MiB buffer (aligned pieces go
# direct), small ones whose tail is unaligned.
head -c $((6 << 20)) /dev/urandom >"$P/big.bin"
(cd "$P" && ck snap -q -m first)
head -c $((1 << 20)) /dev/urandom >"$P/new.bin"
(cd "$P" && ck snap -q -m second)
echo 'x' >>"$P/src/f1.c"
(cd "$P" && ck snap -q -m third)
CKPTFS_PASSPHRASE_FILE=$T/pass ck key passphrase >/dev/null
npacks=$(find "$CKPTFS_REPO/packs" -name '*.pack' | wc -l)
[ "$npacks" -ge 3 ] || fail "expected 3 packs or more, got $npacks"

# Bytes of the packs under $1 held in the page cache (fincore).  Told
# only where a plain copy shows up there (not on tmpfs, whose pages are
# the files themselves, nor without fincore): else nothing.
resident() {
	[ -n "$cache_seen" ] || return 0
	find "$1/packs" -name '*.pack' -exec fincore --bytes --noheadings --output RES {} + |
		awk '{s += $1} END {print s + 0}'
}
cache_seen=
if command -v fincore >/dev/null && [ "$(stat -f -c %T "$T")" != tmpfs ]; then
	cp "$(find "$CKPTFS_REPO/packs" -name '*.pack' | sed -n 1p)" "$T/probe"
	[ "$(fincore --bytes --noheadings --output RES "$T/probe")" -gt 0 ] && cache_seen=1
	rm -f "$T/probe"
fi
no_cache_left() {
	local c
	c=$(resident "$T/$1")
	[ -z "$c" ] || [ "$c" = 0 ] || fail "$1: the push left $c bytes of packs in the page cache"
}

# push_refused FAMILY REMOTE: push to a new directory remote with every
# counted call of FAMILY failing with EINVAL; $injected is how many were.
push_refused() {
	local fam=$1 name=$2
	ck remote add "$name" "$T/$name" >/dev/null
	mkdir -p "$T/$name"
	FAULT_CALL=$fam FAULT_NTH=1 FAULT_STICKY=1 FAULT_ERRNO=EINVAL FAULT_PREFIX=$T/$name \
		FAULT_REPORT=$T/report LD_PRELOAD=$lib expect_status 0 "$CKPTFS" push "$name"
	grep -Eq "^$name: $npacks new packs, " "$T/stdout" || fail "$fam: push: $(cat "$T/stdout")"
	[ ! -s "$T/stderr" ] || fail "$fam: push said: $(cat "$T/stderr")"
	injected=$(sed -n 's/.*injected=\([0-9]*\).*/\1/p' "$T/report")
}

# The remote holds exactly the local packs, and check --read-data reads
# and authenticates every one of them.
remote_sound() {
	local name=$1
	(cd "$CKPTFS_REPO" && find packs -name '*.pack' | sort) >"$T/local.lst"
	(cd "$T/$name" && find packs -type f | sort) >"$T/remote.lst"
	cmp -s "$T/local.lst" "$T/remote.lst" || fail "$name: pack lists differ"
	while read -r f; do cmp -s "$CKPTFS_REPO/$f" "$T/$name/$f" || fail "$name: $f differs"; done <"$T/local.lst"
	! find "$T/$name" -name '*.tmp' | grep -q . || fail "$name: a temp file left"
	expect_status 0 "$CKPTFS" check --remote "$name" --read-data
	grep -Eq "^remote $name: $npacks packs checked; read $npacks packs \(.*\), [0-9,]+ blobs$" "$T/stdout" ||
		fail "$name: check --remote --read-data: $(cat "$T/stdout")"
}

# A plain push first: the shim (counting only) sees O_DIRECT tried on
# this file system, so the refusals below do change the path taken.
ck remote add direct "$T/direct" >/dev/null
mkdir -p "$T/direct"
FAULT_CALL=odirect_open FAULT_NTH=0 FAULT_PREFIX=$T/direct FAULT_REPORT=$T/report \
	LD_PRELOAD=$lib ck push direct >/dev/null
calls=$(sed -n 's/calls=\([0-9]*\).*/\1/p' "$T/report")
[ "$calls" -ge $((2 * npacks)) ] || fail "a push opened $calls files with O_DIRECT, expected a write and a read-back of each of $npacks packs"
no_cache_left direct # before anything reads them
remote_sound direct

# Refused at open: each pack's write and its read-back fall back.
push_refused odirect_open noopen
[ "$injected" -ge $((2 * npacks)) ] || fail "odirect_open: $injected opens refused, expected 2 per pack ($npacks packs)"
no_cache_left noopen # before anything reads them
remote_sound noopen

# Refused at the first transfer: the writes and the read-backs carry on
# through the cache.
push_refused odirect_io noio
[ "$injected" -ge "$npacks" ] || fail "odirect_io: $injected transfers refused, expected one read-back per pack at least ($npacks packs)"
no_cache_left noio # before anything reads them
remote_sound noio

# recover from it into a destination that refuses O_DIRECT: every pack
# written through the cache, each matched with the manifest, every
# snapshot back byte for byte.
mkdir -p "$T/recd"
FAULT_CALL=odirect_open FAULT_NTH=1 FAULT_STICKY=1 FAULT_ERRNO=EINVAL FAULT_PREFIX=$T/recd \
	FAULT_REPORT=$T/report CKPTFS_PASSPHRASE_FILE=$T/pass LD_PRELOAD=$lib \
	expect_status 0 "$CKPTFS" recover "$T/noopen" --repo "$T/recd/repo"
grep -Eq "^recovered $T/recd/repo: $npacks packs, .*, 3 snapshots, " "$T/stdout" || fail "recover: $(cat "$T/stdout")"
injected=$(sed -n 's/.*injected=\([0-9]*\).*/\1/p' "$T/report")
[ "$injected" -ge "$npacks" ] || fail "recover: $injected opens refused, expected one per pack ($npacks packs)"
CKPTFS_REPO=$T/recd/repo ck check --read-data -q
for s in $("$CKPTFS" log -p proj | awk '{print $1}'); do
	rm -rf "$T/o1" "$T/o2"
	"$CKPTFS" restore . -p proj --from "$s" --to "$T/o1" >/dev/null
	CKPTFS_REPO=$T/recd/repo "$CKPTFS" restore . -p proj --from "$s" --to "$T/o2" >/dev/null
	same_tree "$T/o1" "$T/o2"
done
echo "O_DIRECT refused: $npacks packs pushed twice and recovered through the page cache, all verified"
